"""Applying a mapping: canonical record -> remote flat record and back.

Both directions are pure functions that never raise for bad values: every field that
cannot be mapped becomes a ``FieldError`` and the rest of the record still maps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crmsync.mapping.coerce import to_canonical, to_wire
from crmsync.mapping.errors import FieldError, MappingError
from crmsync.mapping.model import Direction, FieldMapping, MappingSet
from crmsync.mapping.paths import MISSING, get_path, set_path
from crmsync.mapping.schema import ObjectType
from crmsync.mapping.transforms import TransformKind, apply_transform


@dataclass(slots=True)
class MappingResult:
    """The mapped record and the fields that could not be mapped."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _is_empty(value: Any) -> bool:
    return value is MISSING or value is None or value == "" or value == []


def _outbound_value(fm: FieldMapping, value: Any, mapping: MappingSet, region: str) -> Any:
    # a date_format step does its own parsing, so the value keeps its canonical type
    value = to_canonical(value, fm.type, region)
    for transform in fm.transforms:
        value = apply_transform(
            transform, value, outbound=True, region=region, status_maps=mapping.status_maps
        )
    return to_wire(value)


def _inbound_value(fm: FieldMapping, value: Any, mapping: MappingSet, region: str) -> Any:
    for transform in reversed(fm.transforms):
        value = apply_transform(
            transform, value, outbound=False, region=region, status_maps=mapping.status_maps
        )
    return to_canonical(value, fm.type, region)


def _apply(
    mapping: MappingSet,
    object_type: ObjectType | str,
    record: dict[str, Any],
    direction: Direction,
    region: str,
) -> MappingResult:
    object_mapping = mapping.objects.get(ObjectType(object_type))
    if object_mapping is None:
        raise MappingError(f"mapping {mapping.provider!r} has no {object_type} mapping")
    result = MappingResult()
    outbound = direction is Direction.OUTBOUND
    for fm in object_mapping.for_direction(direction):
        read, write = (fm.source, fm.target) if outbound else (fm.target, fm.source)
        value = get_path(record, read)
        if _is_empty(value):
            if fm.default is not None:
                value = fm.default
            elif fm.required and outbound:
                # required is what the remote side demands; canonical records are
                # checked by validation rules, and inbound updates may be partial
                result.errors.append(FieldError(read, "required field is missing", None))
                continue
            else:
                continue
        convert = _outbound_value if outbound else _inbound_value
        try:
            set_path(result.values, write, convert(fm, value, mapping, region))
        except (ValueError, TypeError, MappingError) as exc:
            result.errors.append(FieldError(read, str(exc), value))
    return result


def map_outbound(
    mapping: MappingSet, object_type: ObjectType | str, record: dict[str, Any], region: str = "US"
) -> MappingResult:
    """Canonical record -> remote flat record (remote property -> value)."""
    return _apply(mapping, object_type, record, Direction.OUTBOUND, region)


def map_inbound(
    mapping: MappingSet, object_type: ObjectType | str, record: dict[str, Any], region: str = "US"
) -> MappingResult:
    """Remote flat record -> canonical record (nested by the canonical dotted paths)."""
    return _apply(mapping, object_type, record, Direction.INBOUND, region)


def status_fields(mapping: MappingSet, object_type: ObjectType | str) -> dict[str, str]:
    """Canonical field -> status map name, for the fields of ``object_type`` that use one."""
    found: dict[str, str] = {}
    for fm in mapping.objects[ObjectType(object_type)].fields:
        for transform in fm.transforms:
            if transform.kind is TransformKind.STATUS_MAP:
                found[fm.source] = str(transform.arg)
    return found
