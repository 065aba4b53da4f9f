"""Pure functions between Pipedrive JSON and the connector contract's flat shapes.

Custom fields live under 40-character hash keys (v2: inside ``custom_fields``; v1: flat).
Remote records carry each custom value under its hash key and, as an alias, under the
field's label when that label names no standard field; payloads may use either. Values
of ``enum``/``set`` fields travel as option ids and are shown as their labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crmsync.connectors.base import Payload, RemoteField, RemoteRecord

__all__ = [
    "ENTITIES",
    "Entity",
    "FieldMap",
    "from_v1_time",
    "parse_time",
    "to_body",
    "to_field_map",
    "to_remote_field",
    "to_remote_record",
]

HASH_KEY = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True, slots=True)
class Entity:
    """One Pipedrive entity as the connector addresses it."""

    plural: str
    singular: str
    fields_path: str | None  # the *Fields endpoint, when the entity has one
    v2: bool  # whether records are read and written through /api/v2
    search_field: str | None = None  # the property that identifies a record in search


_ENTITIES: Mapping[str, Entity] = {
    e.plural: e
    for e in (
        Entity("persons", "person", "/v1/personFields", True, "email"),
        Entity("organizations", "organization", "/v1/organizationFields", True, "name"),
        Entity("deals", "deal", "/v1/dealFields", True, "title"),
        Entity("activities", "activity", "/v1/activityFields", True),
        # leads share the deals' custom fields; their title names no one (crmsync's
        # default mapping gives every lead the same one), so it is no match key
        Entity("leads", "lead", "/v1/dealFields", False),
        Entity("notes", "note", None, False),
    )
}
# Object types by crmsync's canonical names (what the sync engine asks for), and by
# Pipedrive's own plural (kept for callers that speak Pipedrive).
ENTITIES: Mapping[str, Entity] = {
    **_ENTITIES,
    "contacts": _ENTITIES["persons"],
    "companies": _ENTITIES["organizations"],
}

_FIELD_TYPES: Mapping[str, str] = {
    "varchar": "string",
    "varchar_auto": "string",
    "text": "string",
    "phone": "string",
    "address": "string",
    "double": "number",
    "monetary": "number",
    "int": "number",
    "date": "date",
    "daterange": "date",
    "time": "string",
    "timerange": "string",
    "enum": "enumeration",
    "set": "enumeration",
    "org": "reference",
    "people": "reference",
    "user": "reference",
    "visible_to": "number",
}

# note fields (notes have no *Fields endpoint)
NOTE_FIELDS = (
    RemoteField("content", "Content", "string", required=True),
    RemoteField("person_id", "Person", "reference"),
    RemoteField("org_id", "Organization", "reference"),
    RemoteField("deal_id", "Deal", "reference"),
    RemoteField("lead_id", "Lead", "reference"),
)

READ_ONLY = frozenset({"id", "add_time", "update_time", "creator_user_id"})
# contact arrays shown (and written) as one flat value: the primary entry
_ARRAYS = {"email": "emails", "phone": "phones"}


@dataclass(frozen=True, slots=True)
class FieldMap:
    """The custom fields of one entity: hash key -> label, and option labels."""

    labels: Mapping[str, str] = field(default_factory=dict)  # key -> label
    keys: Mapping[str, str] = field(default_factory=dict)  # label (lowercase) -> key
    options: Mapping[str, Mapping[int, str]] = field(default_factory=dict)  # key -> id->label

    def key_of(self, name: str) -> str | None:
        """The hash key a payload property names (a hash key or a custom label)."""
        if HASH_KEY.match(name):
            return name
        return self.keys.get(name.lower())

    types: Mapping[str, str] = field(default_factory=dict)  # key -> field_type

    def show(self, key: str, value: Any) -> Any:
        """An option id (or the ids of a ``set``) as its label(s); a v2 monetary
        ``{value, currency}`` as its amount."""
        if isinstance(value, Mapping) and "value" in value:
            return value.get("value")
        options = self.options.get(key)
        if not options or value is None:
            return value
        ids = value if isinstance(value, list) else str(value).split(",")
        labels = [options.get(int(i), str(i)) for i in ids if str(i).strip().isdigit()]
        return labels[0] if len(labels) == 1 and not isinstance(value, list) else labels

    def store(self, key: str, value: Any, *, v2: bool = True, currency: Any = None) -> Any:
        """A value as Pipedrive takes it for the field's type: option ids for labels,
        a number for double and monetary, and in v2 a set as an array of ids and a
        monetary amount as ``{value, currency}`` (v2 refuses anything looser)."""
        if value is None:
            return None
        kind = self.types.get(key)
        options = self.options.get(key)
        if options:
            by_label = {label.lower(): n for n, label in options.items()}
            if kind == "set" or isinstance(value, list):
                items = value if isinstance(value, list) else str(value).split(",")
                ids = [_option_id(by_label, v) for v in items if str(v).strip()]
                return ids if v2 or kind != "set" else ",".join(str(i) for i in ids)
            return _option_id(by_label, value)
        if kind == "monetary":
            given = value if isinstance(value, Mapping) else {"value": value}
            amount = _number(given.get("value"))
            if not v2:
                return amount
            return {"value": amount, "currency": given.get("currency") or currency or "USD"}
        if kind == "double":
            return _number(value)
        return value


# v2 standard fields typed strictly: ids and enums as integers, amounts as numbers
_V2_INTEGERS = frozenset(
    {"owner_id", "person_id", "org_id", "deal_id", "pipeline_id", "stage_id", "visible_to"}
)
_V2_NUMBERS = frozenset({"value", "probability"})


def _integer(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _option_id(by_label: Mapping[str, int], value: Any) -> Any:
    found = by_label.get(str(value).strip().lower(), value)
    return int(found) if isinstance(found, str) and found.strip().isdigit() else found


def _number(value: Any) -> Any:
    """A numeric string as its number (v2 refuses numbers sent as strings)."""
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return value
        return int(number) if number.is_integer() and "." not in value else number
    return value


def to_remote_field(raw: Mapping[str, Any]) -> RemoteField:
    """A field of a *Fields endpoint as a remote field (``name`` is its key)."""
    options = tuple(str(o.get("label")) for o in raw.get("options") or [] if "label" in o)
    key = str(raw["key"])
    return RemoteField(
        name=key,
        label=str(raw.get("name") or key),
        type=_FIELD_TYPES.get(str(raw.get("field_type")), "string"),
        required=bool(raw.get("mandatory_flag", False)),
        custom=bool(raw.get("edit_flag", False)),
        read_only=key in READ_ONLY,
        options=options,
    )


def to_field_map(raw_fields: Sequence[Mapping[str, Any]]) -> FieldMap:
    """The custom-field lookup of an entity from its *Fields answer."""
    standard = {str(f["key"]).lower() for f in raw_fields if not f.get("edit_flag")}
    labels: dict[str, str] = {}
    keys: dict[str, str] = {}
    options: dict[str, dict[int, str]] = {}
    types: dict[str, str] = {}
    for raw in raw_fields:
        if not raw.get("edit_flag"):
            continue
        key, label = str(raw["key"]), str(raw.get("name") or raw["key"])
        labels[key] = label
        types[key] = str(raw.get("field_type") or "")
        # a label that repeats a standard key would shadow it: that field is key-only
        if label.lower() not in standard and label.lower() not in keys:
            keys[label.lower()] = key
        if raw.get("options"):
            options[key] = {int(o["id"]): str(o["label"]) for o in raw["options"]}
    return FieldMap(labels, keys, options, types)


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 (v2, leads) or ``YYYY-MM-DD HH:MM:SS`` UTC (v1) as an aware datetime."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00").replace(" ", "T", 1)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def from_v1_time(value: datetime) -> str:
    """An aware datetime in v1's ``YYYY-MM-DD HH:MM:SS`` UTC."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _primary(entries: Any) -> Any:
    """The primary (else first) value of an ``emails``/``phones`` array."""
    if not isinstance(entries, list) or not entries:
        return entries if isinstance(entries, str) else None
    chosen = next((e for e in entries if isinstance(e, Mapping) and e.get("primary")), entries[0])
    return chosen.get("value") if isinstance(chosen, Mapping) else chosen


def _reference(value: Any) -> Any:
    """v1 relations come as ``{"value": id, "name": ...}``; keep the id."""
    return value.get("value") if isinstance(value, Mapping) and "value" in value else value


def to_remote_record(obj: Mapping[str, Any], fields: FieldMap) -> RemoteRecord:
    """A v1 or v2 record as a flat remote record."""
    properties: dict[str, Any] = {}
    custom = dict(obj.get("custom_fields") or {})
    for name, value in obj.items():
        if name in ("id", "custom_fields"):
            continue
        if HASH_KEY.match(name):
            custom[name] = value
        elif name in ("emails", "phones", "email", "phone"):
            flat = "email" if name.startswith("email") else "phone"
            properties[flat] = _primary(value)
            properties[f"{flat}s"] = value
        else:
            properties[name] = _reference(value)
    for key, value in custom.items():
        shown = fields.show(key, value)
        properties[key] = shown
        label = fields.labels.get(key)
        if label and fields.keys.get(label.lower()) == key:
            properties[label] = shown
    deleted = obj.get("is_deleted") is True or obj.get("active_flag") is False
    return RemoteRecord(
        remote_id=str(obj["id"]),
        properties=properties,
        modified_at=parse_time(obj.get("update_time")),
        archived=deleted or obj.get("is_archived") is True,
    )


def _as_entries(value: Any) -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value]
    entries = []
    for n, item in enumerate(v for v in values if v not in (None, "")):
        if isinstance(item, Mapping):
            entries.append(dict(item))
        else:
            entries.append({"value": str(item), "primary": n == 0, "label": "work"})
    return entries


def to_body(payload: Payload, entity: Entity, fields: FieldMap) -> dict[str, Any]:
    """A write body: arrays for email/phone, custom values by hash key, option ids.

    v2 takes custom values inside ``custom_fields``; v1 (leads, notes) takes them flat.
    A person given ``first_name``/``last_name`` but no ``name`` gets both joined.
    """
    body: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, value in payload.items():
        if name in READ_ONLY or (name in ("emails", "phones") and name[:-1] in payload):
            continue
        key = fields.key_of(name)
        if key is not None:
            custom[key] = fields.store(key, value, v2=entity.v2, currency=payload.get("currency"))
        elif name in _ARRAYS and entity.v2:
            body[_ARRAYS[name]] = _as_entries(value)
        elif entity.v2 and name in _V2_INTEGERS:
            body[name] = _integer(value)
        elif entity.v2 and name in _V2_NUMBERS:
            body[name] = _number(value)
        else:
            body[name] = value
    if entity.plural == "persons" and not body.get("name"):
        joined = " ".join(str(body[k]) for k in ("first_name", "last_name") if body.get(k))
        if joined:
            body["name"] = joined
    if custom:
        if entity.v2:
            body["custom_fields"] = custom
        else:
            body.update(custom)
    return body
