"""Pure mappers between a REST CRM's JSON and flat remote records, driven by a definition.

Property names are the definition's field names; each has a wire name, a dot path into
the record (``customFields.industry``). Properties a definition does not name travel
under their own name, so a CRM's new fields work before the definition lists them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from crmsync.connectors.base import Payload, RemoteDeletion, RemoteField, RemoteRecord
from crmsync.connectors.rest.definition import Definition, FieldSpec, ObjectSpec

__all__ = [
    "dig",
    "parse_time",
    "to_deletion",
    "to_properties",
    "to_record",
    "to_remote_fields",
    "to_wire",
    "wire_time",
]


def dig(body: Any, path: str) -> Any:
    """The value at a dot path (``""`` is the body itself); ``None`` when absent."""
    found = body
    for part in path.split(".") if path else ():
        if not isinstance(found, Mapping):
            return None
        found = found.get(part)
    return found


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if not rest:
        body[head] = value
        return
    inner = body.setdefault(head, {})
    if isinstance(inner, dict):
        _put(inner, rest, value)


def parse_time(value: Any) -> dt.datetime | None:
    """A wire timestamp (ISO-8601, or epoch seconds / milliseconds) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        seconds = number / 1000 if number > 1e11 else number  # ms after 1973, s before 5138
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def wire_time(moment: dt.datetime, style: str) -> str:
    """A time as a ``since`` parameter: ``iso8601``, ``epoch_ms`` or ``epoch_s``."""
    if style == "epoch_ms":
        return str(round(moment.timestamp() * 1000))
    if style == "epoch_s":
        return str(int(moment.timestamp()))
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_wire(payload: Payload, spec: ObjectSpec, skip: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    """A payload in the CRM's field names (nested where a wire name is a dot path)."""
    body: dict[str, Any] = {}
    for name, value in payload.items():
        if name in skip:
            continue
        declared = spec.fields.get(name)
        _put(body, declared.wire if declared else name, value)
    return body


def _reserved(definition: Definition) -> set[str]:
    deletions = definition.deletions
    names = {definition.record.id, definition.record.modified}
    if deletions.visible == "flag":
        names |= {deletions.flag, *([deletions.at] if deletions.at else [])}
    return names


def to_properties(
    body: Mapping[str, Any], spec: ObjectSpec, definition: Definition
) -> dict[str, Any]:
    """A wire record's properties under the definition's names (id and times apart)."""
    properties: dict[str, Any] = {}
    covered: set[str] = set()
    for name, declared in spec.fields.items():
        covered.add(declared.wire.partition(".")[0])
        value = dig(body, declared.wire)
        if value is not None or declared.wire in body:
            properties[name] = value
    skipped = covered | _reserved(definition)
    properties.update({k: v for k, v in body.items() if k not in skipped})
    return properties


def to_record(body: Mapping[str, Any], spec: ObjectSpec, definition: Definition) -> RemoteRecord:
    """A listed or written record."""
    return RemoteRecord(
        remote_id=str(dig(body, definition.record.id)),
        properties=to_properties(body, spec, definition),
        modified_at=parse_time(dig(body, definition.record.modified)),
        archived=is_deleted(body, definition),
    )


def is_deleted(body: Mapping[str, Any], definition: Definition) -> bool:
    """Whether a listed record is marked deleted."""
    deletions = definition.deletions
    return deletions.visible == "flag" and bool(dig(body, deletions.flag))


def to_deletion(body: Mapping[str, Any], definition: Definition) -> RemoteDeletion:
    """A record listed as deleted."""
    at = definition.deletions.at
    moment = parse_time(dig(body, at)) if at else None
    return RemoteDeletion(
        str(dig(body, definition.record.id)),
        moment or parse_time(dig(body, definition.record.modified)),
    )


def _label(name: str, declared: FieldSpec) -> str:
    return declared.label or name.replace("_", " ").capitalize()


def to_remote_fields(
    spec: ObjectSpec, sample: list[Mapping[str, Any]], definition: Definition
) -> list[RemoteField]:
    """The declared fields, then any other property seen in ``sample`` as a custom one."""
    fields = [
        RemoteField(
            name=name,
            label=_label(name, declared),
            type=declared.type,
            required=declared.required,
            read_only=declared.read_only,
            unique=declared.unique,
            options=declared.options,
        )
        for name, declared in spec.fields.items()
    ]
    known = {f.name for f in fields}
    for body in sample:
        for name in to_properties(body, spec, definition):
            if name not in known:
                known.add(name)
                fields.append(RemoteField(name=name, label=name, type="string", custom=True))
    return fields
