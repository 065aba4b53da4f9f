"""The field-mapping page's form editor: the rows it shows (the mapping's fields, then
new rows, filled from suggestions when asked) and the mapping a posted form makes.

Form fields: ``f:<object>:<i>:target|type|direction`` per existing field (an empty
target removes it; its transforms, default and ``required`` stay as they were) and
``n:<object>:<j>:source|target|type|direction`` per new row (skipped while empty).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from crmsync.connectors.base import RemoteField
from crmsync.mapping.direction import Direction
from crmsync.mapping.errors import MappingError
from crmsync.mapping.model import MappingSet
from crmsync.mapping.schema import CANONICAL_SCHEMA, FieldType, ObjectType
from crmsync.mapping.suggest import TargetField, suggest_mappings

BLANK_ROWS = 3
MAX_NEW_ROWS = 200


@dataclass(frozen=True, slots=True)
class NewRow:
    source: str
    target: str
    type: str
    confidence: float | None  # from a suggestion; None: a blank row


def unmapped_fields(mapping: MappingSet, object_type: ObjectType) -> list[str]:
    """Canonical fields of the object type that no field mapping reads yet."""
    current = mapping.objects.get(object_type)
    taken = {f.source for f in current.fields} if current else set()
    return [name for name in CANONICAL_SCHEMA[object_type] if name not in taken]


def suggested_rows(
    mapping: MappingSet, object_type: ObjectType, remote: Iterable[RemoteField]
) -> list[NewRow]:
    """New rows for the unmapped canonical fields the CRM's writable fields likely mean."""
    current = mapping.objects.get(object_type)
    used = {f.target for f in current.fields} if current else set()
    targets = [
        TargetField(f.name, f.label) for f in remote if not f.read_only and f.name not in used
    ]
    sources = unmapped_fields(mapping, object_type)
    found = suggest_mappings(sources, None, targets) if sources and targets else []
    schema = CANONICAL_SCHEMA[object_type]
    return [
        NewRow(s.source, s.target, schema[s.source].value, round(s.confidence, 2))
        for s in found
        if s.target
    ]


def blank_rows(object_type: ObjectType) -> list[NewRow]:
    return [NewRow("", "", FieldType.STRING.value, None) for _ in range(BLANK_ROWS)]


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _new_indexes(form: Mapping[str, Any], object_type: str) -> list[int]:
    prefix = f"n:{object_type}:"
    found = {
        int(parts[2])
        for name in form
        if name.startswith(prefix) and len(parts := name.split(":")) == 4 and parts[2].isdigit()
    }
    if len(found) > MAX_NEW_ROWS:
        raise MappingError(f"objects.{object_type}: at most {MAX_NEW_ROWS} new fields at once")
    return sorted(found)


def _choice(value: str, allowed: Sequence[str], where: str, default: str) -> str:
    if not value:
        return default
    if value not in allowed:
        raise MappingError(f"{where}: one of {', '.join(allowed)}, not {value!r}")
    return value


def from_form(mapping: MappingSet, form: Mapping[str, Any]) -> MappingSet:
    """The mapping the form describes; ``MappingError`` names the row to fix."""
    types = [t.value for t in FieldType]
    directions = [d.value for d in Direction]
    objects: dict[str, Any] = {}
    for object_type, current in mapping.objects.items():
        name = object_type.value
        fields: list[dict[str, Any]] = []
        for i, field in enumerate(current.fields):
            key = f"f:{name}:{i}"
            if f"{key}:target" not in form:  # a row the form did not show stays
                fields.append(field.model_dump(mode="json"))
                continue
            target = _text(form, f"{key}:target")
            if not target:
                continue  # emptied: removed
            kept = field.model_dump(mode="json")
            where = f"objects.{name}.{field.source}"
            kept["target"] = target
            kept["type"] = _choice(_text(form, f"{key}:type"), types, f"{where}.type", kept["type"])
            kept["direction"] = _choice(
                _text(form, f"{key}:direction"), directions, f"{where}.direction", kept["direction"]
            )
            fields.append(kept)
        for j in _new_indexes(form, name):
            key = f"n:{name}:{j}"
            source, target = _text(form, f"{key}:source"), _text(form, f"{key}:target")
            if not source and not target:
                continue
            where = f"objects.{name} new field {j + 1}"
            if not source or not target:
                raise MappingError(f"{where}: give both the crmsync field and the CRM property")
            row = {
                "source": source,
                "target": target,
                "type": _choice(_text(form, f"{key}:type"), types, f"{where}.type", "string"),
                "direction": _choice(
                    _text(form, f"{key}:direction"), directions, f"{where}.direction", "both"
                ),
            }
            fields.append(row)
        objects[name] = {"remote_object": current.remote_object, "fields": fields}
    document = {**mapping.model_dump(mode="json"), "objects": objects}
    try:
        return MappingSet.model_validate(document)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise MappingError(f"{where}: {first.get('msg')}") from None
