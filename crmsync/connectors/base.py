"""The connector contract: what every CRM connector offers the sync engine.

Connectors speak in flat remote records: a dict of remote property name to value, with the
remote id and modified time kept apart (``RemoteRecord``). Which canonical field maps to
which remote property is the mapping engine's business, not the connector's. Connectors
never see the store; they raise the classes of ``connectors.errors`` and report per-record
outcomes of batch calls in ``UpsertResult``.

The contract is synchronous: the worker runs jobs in threads and the HTTP layer is a sync
``httpx.Client``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from crmsync.connectors.errors import ConfigError, ConnectorError

__all__ = [
    "Capabilities",
    "ChangeKind",
    "ChangePage",
    "Connector",
    "Journey",
    "JourneyConnector",
    "MergeConnector",
    "ObjectCapabilities",
    "Outcome",
    "Payload",
    "RemoteChange",
    "RemoteDeletion",
    "RemoteField",
    "RemoteRecord",
    "TimelineConnector",
    "TimelineEntry",
    "UpsertResult",
    "WebhookKind",
    "batches",
]

Payload = Mapping[str, Any]
"""A flat record to write: remote property name → value (already mapped)."""


class WebhookKind(StrEnum):
    """How a provider proves its webhook deliveries are genuine."""

    NONE = "none"
    HMAC_SIGNATURE = "hmac_signature"  # HubSpot v1/v2/v3 signatures
    BASIC_AUTH = "basic_auth"  # Pipedrive: credentials set on the subscription
    BODY_SECRET = "body_secret"  # noqa: S105  (Total Expert: shared secret echoed in the body)
    HEADER_SECRET = "header_secret"  # noqa: S105  (declarative REST: a secret header)
    OUTBOUND_MESSAGE = "outbound_message"  # Salesforce SOAP outbound messages


@dataclass(frozen=True, slots=True)
class ObjectCapabilities:
    """What a connector can do with one object type."""

    batch_limit: int = 1
    upsert_keys: tuple[str, ...] = ()  # remote properties usable as the match key
    incremental_field: str | None = None  # remote modified-time property for polling
    can_delete: bool = True
    reports_deletions: bool = True  # whether ``changes`` lists deletions

    def __post_init__(self) -> None:
        if self.batch_limit < 1:
            raise ValueError("batch_limit must be at least 1")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """A connector's object types and webhook kind."""

    objects: Mapping[str, ObjectCapabilities]
    webhook_kind: WebhookKind = WebhookKind.NONE
    timeline: bool = False
    journeys: bool = False

    def of(self, object_type: str) -> ObjectCapabilities:
        """The capabilities of ``object_type``; ``ConfigError`` if not supported."""
        try:
            return self.objects[object_type]
        except KeyError:
            supported = ", ".join(sorted(self.objects))
            raise ConfigError(
                f"object type {object_type!r} is not supported (supported: {supported})"
            ) from None


@dataclass(frozen=True, slots=True)
class RemoteField:
    """A property of a remote object type, custom ones included."""

    name: str
    label: str
    type: str  # string, number, boolean, date, datetime, enumeration, reference
    required: bool = False
    custom: bool = False
    read_only: bool = False
    unique: bool = False
    options: tuple[str, ...] = ()  # allowed values of an enumeration


@dataclass(frozen=True, slots=True)
class RemoteRecord:
    """A remote record, flat: ``properties`` holds every remote property but the id."""

    remote_id: str
    properties: Mapping[str, Any]
    modified_at: datetime | None = None
    archived: bool = False
    # when each property got its current value, where the CRM says so (HubSpot's
    # propertiesWithHistory); properties not in it date from ``modified_at``
    field_times: Mapping[str, datetime] | None = None


class Outcome(StrEnum):
    """What happened to one payload of an upsert."""

    CREATED = "created"
    UPDATED = "updated"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """The outcome of one payload; results line up with payloads by position."""

    outcome: Outcome
    remote_id: str | None = None
    error: ConnectorError | None = None

    @classmethod
    def created(cls, remote_id: str) -> UpsertResult:
        """A new remote record."""
        return cls(Outcome.CREATED, remote_id)

    @classmethod
    def updated(cls, remote_id: str) -> UpsertResult:
        """An existing remote record changed."""
        return cls(Outcome.UPDATED, remote_id)

    @classmethod
    def failed(cls, error: ConnectorError, remote_id: str | None = None) -> UpsertResult:
        """This payload failed (usually ``InvalidRecord``); its siblings may not have."""
        return cls(Outcome.ERROR, remote_id, error)

    @property
    def ok(self) -> bool:
        """Whether the payload was written."""
        return self.outcome is not Outcome.ERROR

    @staticmethod
    def check(payloads: Sequence[Payload], results: Sequence[UpsertResult]) -> None:
        """Raise when a connector returned other than one result per payload."""
        if len(payloads) != len(results):
            raise ConfigError(f"{len(results)} results for {len(payloads)} payloads")


@dataclass(frozen=True, slots=True)
class RemoteDeletion:
    """A record deleted (or archived) remotely."""

    remote_id: str
    deleted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChangePage:
    """One page of incremental changes; ``next_cursor`` resumes after it.

    ``has_more`` says whether another page is ready now; when false, ``next_cursor`` is
    still the place to resume at the next poll.
    """

    records: Sequence[RemoteRecord]
    deletions: Sequence[RemoteDeletion]
    next_cursor: str | None
    has_more: bool = False


class ChangeKind(StrEnum):
    """What a webhook event says happened."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    MERGED = "merged"
    RESTORED = "restored"


@dataclass(frozen=True, slots=True)
class RemoteChange:
    """One event of a webhook delivery, in provider-neutral terms."""

    object_type: str
    remote_id: str
    kind: ChangeKind
    event_id: str | None = None  # for replay detection (WebhookEvent is unique on it)
    occurred_at: datetime | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)  # changed values, if sent
    merged_into: str | None = None


class Connector(ABC):
    """One CRM. Subclasses live in ``connectors/<provider>/connector.py``."""

    provider: str
    capabilities: Capabilities

    @abstractmethod
    def describe(self, object_type: str) -> list[RemoteField]:
        """The remote fields of ``object_type``, custom fields included."""

    @abstractmethod
    def upsert(
        self, object_type: str, payloads: Sequence[Payload], match_key: str | None
    ) -> list[UpsertResult]:
        """Create or update each payload, matched on ``match_key`` (or ``id`` when present).

        One result per payload, in order. A payload the provider refuses is an
        ``UpsertResult.failed(InvalidRecord(...))``; an error that concerns the whole call
        (auth, rate, transient) is raised instead.
        """

    @abstractmethod
    def delete(self, object_type: str, remote_ids: Sequence[str]) -> None:
        """Delete (or archive) these records; already missing ones are not an error."""

    @abstractmethod
    def changes(self, object_type: str, cursor: str | None) -> ChangePage:
        """Records changed and deleted since ``cursor`` (``None``: from the beginning)."""

    @abstractmethod
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether a delivery is genuine (signature, credentials or shared secret)."""

    @abstractmethod
    def parse_webhook(self, body: bytes) -> list[RemoteChange]:
        """The changes a verified delivery reports."""

    def close(self) -> None:  # noqa: B027  # optional hook; most connectors hold one client
        """Release the connector's HTTP connections."""


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """An activity or note to show on a remote record's timeline."""

    object_type: str  # the record it hangs on: contacts, deals…
    remote_id: str
    kind: str  # activity type (call, email, journey_step…) or "note"
    occurred_at: datetime
    subject: str = ""
    body: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class TimelineConnector(Protocol):
    """Connectors that can write activities and notes to a record's timeline."""

    def push_timeline(self, entries: Sequence[TimelineEntry]) -> list[UpsertResult]: ...


@dataclass(frozen=True, slots=True)
class Journey:
    """A marketing journey defined in the CRM."""

    remote_id: str
    name: str
    active: bool = True
    category: str | None = None
    trigger: str | None = None
    description: str | None = None
    # ({"name", "template", "delay_minutes"}, ...) when the CRM describes its steps
    steps: tuple[Mapping[str, Any], ...] = ()
    enrollment_count: int | None = None
    completion_rate: float | None = None


@runtime_checkable
class JourneyConnector(Protocol):
    """Connectors whose CRM runs journeys (Total Expert)."""

    def journeys(self) -> list[Journey]: ...

    def trigger_journey(self, journey_id: str, remote_contact_id: str) -> None: ...


@runtime_checkable
class MergeConnector(Protocol):
    """Connectors whose CRM merges two records natively (HubSpot, Pipedrive).

    ``merge_records`` folds ``merged_remote_id`` into ``survivor_remote_id`` and returns
    the survivor's remote id afterwards (a CRM may give the merged record a new one).
    Ask ``can_merge`` first: ``merge_records`` raises ``ConfigError`` for an object type
    the CRM cannot merge.
    """

    def can_merge(self, object_type: str) -> bool: ...

    def merge_records(
        self, object_type: str, survivor_remote_id: str, merged_remote_id: str
    ) -> str: ...


@runtime_checkable
class ReadConnector(Protocol):
    """Connectors that read given records by remote id (HubSpot batch read, Pipedrive
    ``ids``). The worker reads a group's records just before pushing it, so that a CRM
    edit it has not polled yet is merged first instead of overwritten."""

    def read(self, object_type: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        """The records that exist (a missing or deleted id is left out)."""
        ...


def batches(payloads: Sequence[Payload], limit: int) -> Iterator[Sequence[Payload]]:
    """Slices of at most ``limit`` payloads, in order."""
    if limit < 1:
        raise ValueError("batch limit must be at least 1")
    for start in range(0, len(payloads), limit):
        yield payloads[start : start + limit]
