"""Pure functions between HubSpot JSON and the connector contract's flat shapes.

HubSpot sends every property value as a string; remote records keep them as sent.
Timestamps arrive as ISO-8601 (``updatedAt``, ``archivedAt``) or epoch milliseconds
(webhook ``occurredAt``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from crmsync.connectors.base import (
    ChangeKind,
    Payload,
    RemoteChange,
    RemoteDeletion,
    RemoteField,
    RemoteRecord,
)

__all__ = [
    "EVENT_KINDS",
    "OBJECT_OF_EVENT",
    "from_ms",
    "object_of_event",
    "parse_time",
    "to_batch_input",
    "to_changes",
    "to_deletion",
    "to_ms",
    "to_remote_field",
    "to_remote_record",
]

# webhook subscription prefix -> object type
OBJECT_OF_EVENT: Mapping[str, str] = {
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "note": "notes",
    "ticket": "tickets",
}

EVENT_KINDS: Mapping[str, ChangeKind] = {
    "creation": ChangeKind.CREATED,
    "propertyChange": ChangeKind.UPDATED,
    "associationChange": ChangeKind.UPDATED,
    "deletion": ChangeKind.DELETED,
    "privacyDeletion": ChangeKind.DELETED,
    "merge": ChangeKind.MERGED,
    "restore": ChangeKind.RESTORED,
}

_FIELD_TYPES: Mapping[str, str] = {
    "string": "string",
    "number": "number",
    "bool": "boolean",
    "date": "date",
    "datetime": "datetime",
    "enumeration": "enumeration",
    "phone_number": "string",
    "object_coordinates": "string",
    "json": "string",
}

# properties that identify a record rather than describe it
ID_PROPERTIES = ("id", "hs_object_id")


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO-8601 text or epoch milliseconds; ``None`` if empty."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return from_ms(int(value))
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def from_ms(ms: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def to_ms(moment: datetime) -> int:
    """An aware datetime as epoch milliseconds."""
    return int(moment.timestamp() * 1000)


_EPOCH = datetime.fromtimestamp(0, UTC)


def to_remote_record(obj: Mapping[str, Any], modified_property: str) -> RemoteRecord:
    """A ``SimplePublicObject`` as a flat remote record."""
    properties = dict(obj.get("properties") or {})
    modified = parse_time(properties.get(modified_property) or obj.get("updatedAt"))
    return RemoteRecord(
        remote_id=str(obj["id"]),
        properties=properties,
        modified_at=modified,
        archived=bool(obj.get("archived", False)),
        field_times=field_times(obj),
    )


def field_times(obj: Mapping[str, Any]) -> dict[str, datetime] | None:
    """When each property got its current value, from ``propertiesWithHistory`` (newest
    entry first); None when the object carries no history."""
    history = obj.get("propertiesWithHistory")
    if not isinstance(history, Mapping):
        return None
    properties = obj.get("properties") or {}
    out: dict[str, datetime] = {}
    for name, entries in history.items():
        if not entries:
            continue
        newest = max(entries, key=lambda e: parse_time(e.get("timestamp")) or _EPOCH)
        at = parse_time(newest.get("timestamp"))
        # the history must describe the value the object shows, else it is of no use
        if at is not None and (newest.get("value") or None) == (properties.get(name) or None):
            out[str(name)] = at
    return out


def to_deletion(obj: Mapping[str, Any]) -> RemoteDeletion:
    """An archived ``SimplePublicObject`` as a deletion."""
    return RemoteDeletion(str(obj["id"]), parse_time(obj.get("archivedAt") or obj.get("updatedAt")))


def to_remote_field(prop: Mapping[str, Any]) -> RemoteField:
    """A property definition of the properties API as a remote field."""
    meta = prop.get("modificationMetadata") or {}
    options = tuple(str(o.get("value")) for o in prop.get("options") or [] if "value" in o)
    return RemoteField(
        name=str(prop["name"]),
        label=str(prop.get("label") or prop["name"]),
        type=_FIELD_TYPES.get(str(prop.get("type")), "string"),
        custom=not bool(prop.get("hubspotDefined", False)),
        read_only=bool(meta.get("readOnlyValue", False) or prop.get("calculated", False)),
        unique=bool(prop.get("hasUniqueValue", False)),
        options=options,
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return str(to_ms(value))
    return str(value)


def to_batch_input(payload: Payload, match_key: str | None = None) -> dict[str, Any]:
    """One input of a batch call: ``id`` (by record id or by ``match_key``) + properties.

    Values become strings as HubSpot expects; the record id never goes in properties.
    """
    properties = {k: _text(v) for k, v in payload.items() if k not in ID_PROPERTIES}
    item: dict[str, Any] = {"properties": properties}
    remote_id = payload.get("id") or payload.get("hs_object_id")
    if remote_id:
        item["id"] = str(remote_id)
    elif match_key:
        item["id"] = _text(payload[match_key])
        item["idProperty"] = match_key
    return item


def object_of_event(event: Mapping[str, Any]) -> str | None:
    """The object type a legacy event names in its prefix (``contact.creation``)."""
    prefix = str(event.get("subscriptionType", "")).partition(".")[0]
    return OBJECT_OF_EVENT.get(prefix)


def to_changes(
    events: Sequence[Mapping[str, Any]],
    object_of: Callable[[Mapping[str, Any]], str | None] = object_of_event,
) -> list[RemoteChange]:
    """Webhook events as changes; events of unknown objects or kinds are left out.
    ``object_of(event)`` names the object type of an event (by default from the
    ``contact.`` prefix of its subscription type)."""
    changes: list[RemoteChange] = []
    for event in events:
        action = str(event.get("subscriptionType", "")).partition(".")[2]
        object_type = object_of(event)
        kind = EVENT_KINDS.get(action)
        if object_type is None or kind is None:
            continue
        event_id = f"{event.get('portalId')}:{event.get('subscriptionId')}:{event.get('eventId')}"
        occurred = parse_time(event.get("occurredAt"))
        if kind is ChangeKind.MERGED:
            primary = str(event.get("primaryObjectId") or event.get("objectId"))
            for merged in event.get("mergedObjectIds") or []:
                changes.append(
                    RemoteChange(
                        object_type,
                        str(merged),
                        kind,
                        f"{event_id}:{merged}",
                        occurred,
                        merged_into=primary,
                    )
                )
            continue
        name = event.get("propertyName")
        properties = {str(name): event.get("propertyValue")} if name else {}
        changes.append(
            RemoteChange(
                object_type, str(event.get("objectId")), kind, event_id, occurred, properties
            )
        )
    return changes
