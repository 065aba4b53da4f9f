"""What a provider's setup part works with, and the steps every part shares."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from crmsync.connectors.base import Connector, RemoteField
from crmsync.connectors.http import ConnectorHttp
from crmsync.integrations.setup.model import ItemKind, ItemState, SetupItem
from crmsync.integrations.setup.needs import FieldNeed

# The name crmsync gives what it registers, so it finds its own again (and only those).
OWNER = "crmsync"


@dataclass
class SetupContext:
    """One integration's CRM, as setup sees it.

    ``credentials`` are the decrypted credentials, changed in place when setup generates
    webhook credentials (the service seals them back); ``registrations`` maps an item's
    key to the id of what crmsync registered at the CRM, for removal and re-registration.
    """

    integration_id: uuid.UUID
    provider: str
    connector: Connector
    http: ConnectorHttp
    needs: list[FieldNeed]
    objects: list[str]
    webhook_url: str
    credentials: dict[str, Any]
    registrations: dict[str, str] = field(default_factory=dict)
    received_webhook: bool = False
    config: Mapping[str, Any] = field(default_factory=dict)
    _described: dict[str, dict[str, RemoteField]] = field(default_factory=dict)

    def fields_of(self, object_type: str) -> dict[str, RemoteField]:
        """The CRM's fields of a canonical object type, by lowercase name (read once)."""
        if object_type not in self._described:
            found = self.connector.describe(object_type)
            self._described[object_type] = {f.name.lower(): f for f in found}
        return self._described[object_type]

    def forget_fields(self, object_type: str) -> None:
        self._described.pop(object_type, None)

    def generated(self, name: str, size: int = 24) -> str:
        """A credential crmsync generates once and keeps (``credentials[name]``)."""
        value = self.credentials.get(name)
        if not value:
            value = secrets.token_urlsafe(size)
            self.credentials[name] = value
        return str(value)


class ProviderSetup(Protocol):
    """A provider's part: list the items, create one, remove what crmsync registered."""

    def plan(self, ctx: SetupContext) -> list[SetupItem]: ...

    def create(self, ctx: SetupContext, item: SetupItem) -> None: ...

    def remove(self, ctx: SetupContext) -> list[str]: ...


def field_items(
    ctx: SetupContext,
    creatable: Callable[[str], bool],
    remote_type: Callable[[FieldNeed], tuple[str, dict[str, Any]]],
    *,
    group: str | None = None,
    also_labels: bool = False,
) -> list[SetupItem]:
    """One item per field the mappings need: present, missing (creatable) or manual.

    ``remote_type(need)`` is the CRM's type for it and the attributes its create needs;
    ``also_labels``: a field may be named by its label (Pipedrive's custom fields).
    """
    items = []
    for need in ctx.needs:
        existing = ctx.fields_of(need.object_type)
        names = set(existing)
        if also_labels:
            names |= {f.label.lower() for f in existing.values()}
        kind, attributes = remote_type(need)
        base = SetupItem(
            ItemKind.FIELD,
            need.name,
            ItemState.PRESENT,
            need.object_type,
            need.remote_object,
            need.label,
            kind,
            need.options,
            group,
            extra=attributes,
        )
        if need.name.lower() in names:
            items.append(base)
        elif creatable(need.name):
            items.append(base.as_state(ItemState.MISSING))
        else:
            items.append(
                base.as_state(
                    ItemState.MANUAL, "a standard field this account does not have"
                ).with_steps(
                    f"{need.remote_object}.{need.name} is not a custom field crmsync can "
                    "create: turn the feature on in the CRM, or map the field elsewhere "
                    f"(PUT /api/v1/integrations/{ctx.integration_id}/mappings)",
                )
            )
    return items


def by_name(rows: Any, key: str, value: str) -> Mapping[str, Any] | None:
    """The first mapping in ``rows`` whose ``key`` equals ``value``."""
    return next((r for r in rows or [] if isinstance(r, Mapping) and r.get(key) == value), None)
