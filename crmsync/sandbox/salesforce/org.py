"""One Salesforce org: its records, query locators, sessions and API settings.

Handlers receive the `Org`; the `Sandbox` owns one and plugs it into the common
sandbox machinery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from crmsync.sandbox.salesforce.cursors import DEFAULT_BATCH, Cursors
from crmsync.sandbox.salesforce.ids import IdFactory
from crmsync.sandbox.salesforce.schema import SObjectType, standard_objects
from crmsync.sandbox.salesforce.store import OrgStore
from crmsync.sandbox.salesforce.tokens import TokenBook


@dataclass(frozen=True)
class OrgSettings:
    """API behaviour switches where Salesforce differs by version or configuration.

    `upsert_body_from_version`: from this API version on, an upsert that updates
    answers 200 with ``{"id", "success", "errors", "created": false}``; before it,
    204 with no body (the documented boundary is not exact, hence a setting).
    `deleted_retention_days`: how far back the ``deleted`` resource reaches.
    `open_cursors`: query cursors kept open; opening one more releases the oldest.
    """

    upsert_body_from_version: float = 46.0
    default_batch_size: int = DEFAULT_BATCH
    collection_limit: int = 200
    open_cursors: int = 10
    updated_window_days: int = 30
    deleted_retention_days: int = 15
    session_seconds: float = 7200.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Org:
    """State and settings of one org."""

    settings: OrgSettings = field(default_factory=OrgSettings)
    objects: Mapping[str, SObjectType] = field(default_factory=standard_objects)
    clock: Callable[[], datetime] = utc_now
    # the instance URL token answers name; None: the URL the client reached (set it to
    # act out an org migrated to another instance)
    instance_url: str | None = None

    def __post_init__(self) -> None:
        people = IdFactory()
        self.org_id = people.new("00D")
        self.api_user = people.new("005")
        # Changes made through `user_change` come from a different, human user.
        self.crm_user = people.new("005")
        self.store = OrgStore(self.objects, self.clock)
        self._add_users()
        self.cursors = Cursors(self.settings.open_cursors)
        self.tokens = TokenBook(
            self.org_id,
            self.api_user,
            self.settings.session_seconds,
            clock=lambda: self.clock().timestamp(),
        )

    def reset(self) -> None:
        """Drop every record and open cursor; sessions and connected apps stay."""
        self.store.reset()
        self._add_users()
        self.cursors.clear()

    def _add_users(self) -> None:
        """The org's users: the integration's API user and a human CRM user."""
        self.store.add_user(self.api_user, "integration@sandbox.example", "Integration", "User")
        self.store.add_user(self.crm_user, "owner@sandbox.example", "Sandbox", "Owner")
