"""Pure functions between Total Expert JSON and the connector contract's flat shapes.

A payload is flat: contact attributes by name, relationships as nested objects or dotted
names (``owner.external_id``), and anything else as a custom field
(``custom: [{field_name, value}]``). Remote records flatten the same way: the owner as
``owner.id`` and friends, custom fields by their name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from crmsync.connectors.base import (
    ChangeKind,
    Journey,
    Payload,
    RemoteChange,
    RemoteField,
    RemoteRecord,
    TimelineEntry,
)
from crmsync.connectors.engagement import RemoteInteraction

__all__ = [
    "ATTRIBUTES",
    "parse_time",
    "te_time",
    "to_changes",
    "to_contact_body",
    "to_journey",
    "to_note_body",
    "to_remote_fields",
    "to_remote_record",
]

# contact attributes of the public API, with the contract's field types
ATTRIBUTES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "first_name", "last_name", "title", "email", "email_work", "address",
            "address_2", "city", "state", "zip_code", "phone_cell", "phone_home",
            "phone_office", "fax", "employer_name", "employer_address", "employer_city",
            "employer_state", "employer_zip", "external_id", "source", "nickname",
            "linkedin_url", "classification",
        ),
        "string",
    ),
    **dict.fromkeys(("birthday", "close_date", "creation_date", "list_date"), "datetime"),
    "credit_score": "number",
    **dict.fromkeys(("ok_to_call", "ok_to_email", "ok_to_mail"), "boolean"),
}  # fmt: skip
RELATIONSHIPS = frozenset(
    {"owner", "contact_groups", "external_ids", "custom", "remove_contact_groups"}
)
SPECIAL = frozenset({"do_not_contact", "options", "archived"})
READ_ONLY = frozenset({"id", "internal_created_at", "internal_updated_at"})

EVENT_OBJECTS: Mapping[str, str] = {"CONTACT": "contacts", "CONTACT_NOTE": "notes"}
EVENT_KINDS: Mapping[str, ChangeKind] = {
    "CREATED": ChangeKind.CREATED,
    "UPDATED": ChangeKind.UPDATED,
    "DELETED": ChangeKind.DELETED,
    "ARCHIVED": ChangeKind.DELETED,
}
# note type of an entry kind that has none of its own ("Other")
NOTE_TYPE = 1


def te_time(moment: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` UTC, Total Expert's time format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_time(value: Any) -> datetime | None:
    """A Total Expert time (UTC, no zone) as an aware datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00").replace(" ", "T", 1))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_remote_fields(custom_names: Sequence[str]) -> list[RemoteField]:
    """The contact fields: standard attributes, the owner and the named custom fields."""
    fields = [RemoteField(n, n.replace("_", " ").capitalize(), t) for n, t in ATTRIBUTES.items()]
    fields += [
        RemoteField("owner.id", "Owner", "reference", required=True),
        RemoteField("owner.external_id", "Owner external id", "string"),
        RemoteField("external_ids", "External ids", "string"),
    ]
    fields += [RemoteField(n, n, "string", custom=True) for n in sorted(set(custom_names))]
    return fields


def to_contact_body(payload: Payload) -> dict[str, Any]:
    """A POST/PATCH body from a flat payload (see the module docstring)."""
    body: dict[str, Any] = {}
    custom: list[dict[str, Any]] = []
    for name, value in payload.items():
        head, dot, rest = name.partition(".")
        if name in READ_ONLY:
            continue
        if dot and head in RELATIONSHIPS:
            body.setdefault(head, {})[rest] = value
        elif name in ATTRIBUTES or name in RELATIONSHIPS or name in SPECIAL:
            body[name] = te_time(value) if isinstance(value, datetime) else value
        else:
            custom.append({"field_name": name, "value": value})
    if custom:
        body["custom"] = [*body.get("custom", []), *custom]
    return body


def to_remote_record(contact: Mapping[str, Any]) -> RemoteRecord:
    """A contact as a flat remote record."""
    properties: dict[str, Any] = {}
    for name, value in contact.items():
        if name == "id":
            continue
        if name == "owner" and isinstance(value, Mapping):
            for key in ("id", "username", "email", "external_id"):
                properties[f"owner.{key}"] = value.get(key)
        elif name == "custom" and isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping) and item.get("field_name"):
                    properties[str(item["field_name"])] = item.get("value")
        else:
            properties[name] = value
    return RemoteRecord(
        remote_id=str(contact["id"]),
        properties=properties,
        modified_at=parse_time(contact.get("internal_updated_at")),
        archived=str(contact.get("archived")).lower() in ("true", "1"),
    )


def to_note_body(entry: TimelineEntry, owner: Mapping[str, Any]) -> dict[str, Any]:
    """A contact note for a timeline entry (activities are notes with their kind as type);
    `owner` addresses the owning user (``{"id": …}``), required of admin tokens."""
    type_id = entry.data.get("type_id", NOTE_TYPE)
    title = entry.subject or ("Note" if entry.kind == "note" else entry.kind.replace("_", " "))
    body: dict[str, Any] = {
        "title": title[:255],
        "note": entry.body or title,
        "type_id": type_id,
        "contact": {"id": int(entry.remote_id) if entry.remote_id.isdigit() else entry.remote_id},
        "owner": dict(owner),
    }
    if entry.data.get("outcome"):
        body["outcome"] = entry.data["outcome"]
    return body


def to_journey(raw: Mapping[str, Any]) -> Journey:
    """A journey as the contract's ``Journey``."""
    return Journey(
        remote_id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        active=str(raw.get("active", "True")).lower() in ("true", "1"),
        category=raw.get("category"),
        trigger=raw.get("trigger_type"),
        description=raw.get("description"),
        steps=tuple(_steps(raw.get("steps"))),
        enrollment_count=_int_or_none(raw.get("enrollment_count")),
        completion_rate=_float_or_none(raw.get("completion_rate")),
    )


def _steps(raw: Any) -> list[Mapping[str, Any]]:
    # the account's journeys give a step count, richer ones a list of steps
    if isinstance(raw, list):
        return [
            {
                "name": str(s.get("name") or ""),
                "template": s.get("template"),
                "delay_minutes": s.get("delay_minutes"),
            }
            for s in raw
            if isinstance(s, Mapping)
        ]
    return [{"name": f"Step {n + 1}"} for n in range(raw)] if isinstance(raw, int) else []


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _float_or_none(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def to_changes(event: Mapping[str, Any]) -> list[RemoteChange]:
    """A notification as a change; unknown items or actions give none.

    The event id includes ``hashValue``: a notification of an update that changed
    nothing repeats the previous hash, and is then recognised as a replay.
    """
    object_type = EVENT_OBJECTS.get(str(event.get("item")))
    kind = EVENT_KINDS.get(str(event.get("action")))
    if object_type is None or kind is None or event.get("id") is None:
        return []
    remote_id = str(event["id"])
    event_id = f"{event.get('item')}:{remote_id}:{event.get('action')}:{event.get('hashValue')}"
    return [RemoteChange(object_type, remote_id, kind, event_id)]


# Total Expert activity types that are the contact engaging, as canonical activity types
ENGAGEMENT_TYPES: Mapping[str, str] = {
    "email opened": "email",
    "email clicked": "email",
    "sms replied": "sms",
    "text replied": "sms",
    "call answered": "call",
}


def to_interaction(raw: Mapping[str, Any]) -> RemoteInteraction | None:
    """An activity-feed item as engagement, or None for what is not (notes added,
    journey enrolments, insights)."""
    kind = ENGAGEMENT_TYPES.get(str(raw.get("type") or "").strip().lower())
    stamp = raw.get("created_at")
    if kind is None or not stamp:
        return None
    return RemoteInteraction(
        remote_id=str(raw["id"]),
        type=kind,
        occurred_at=_parse_te_time(str(stamp)),
        subject=str(raw.get("title") or "")[:255],
    )


def _parse_te_time(text: str) -> datetime:
    # "2024-01-02 03:04:05" in UTC (the format te_time writes)
    stamp = datetime.fromisoformat(text.replace(" ", "T"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
