"""Applying a mapping: canonical record -> remote flat record and back.

Both directions are pure functions that never raise for bad values: every field that
cannot be mapped becomes a ``FieldError`` and the rest of the record still maps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crmsync.fields.paths import MISSING, get_path, set_path
from crmsync.mapping.coerce import coercer, to_canonical, to_wire
from crmsync.mapping.direction import Direction
from crmsync.mapping.errors import FieldError, MappingError
from crmsync.mapping.model import FieldMapping, MappingSet
from crmsync.mapping.schema import FieldType, ObjectType
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


@dataclass(frozen=True, slots=True)
class _Step:
    fm: FieldMapping
    read: str
    write: str
    flat_read: bool  # no dot: a plain key lookup is what get_path would do
    flat_write: bool
    # inbound without transforms: the value's coercion alone, called directly
    coerce: Callable[[Any, str], Any] | None = None


class CompiledMapping:
    """One object type's mapping in one direction, prepared once to map many records.

    The worker maps every record of a group with the same mapping; preparing the field
    list and paths once keeps the per-record work to the values themselves. The
    mapping must not be edited while a compiled copy of it is in use.
    """

    __slots__ = ("by_column", "mapping", "outbound", "steps")

    def __init__(
        self, mapping: MappingSet, object_type: ObjectType | str, direction: Direction
    ) -> None:
        object_mapping = mapping.objects.get(ObjectType(object_type))
        if object_mapping is None:
            raise MappingError(f"mapping {mapping.provider!r} has no {object_type} mapping")
        self.mapping = mapping
        self.outbound = direction is Direction.OUTBOUND
        steps = []
        for fm in object_mapping.for_direction(direction):
            read, write = (fm.source, fm.target) if self.outbound else (fm.target, fm.source)
            direct = None if self.outbound or fm.transforms else coercer(fm.type)
            steps.append(_Step(fm, read, write, "." not in read, "." not in write, direct))
        self.steps = tuple(steps)
        # inbound, no defaults, no transforms: ``apply_batch`` maps a field of all the
        # records at a time
        self.by_column = not self.outbound and all(
            s.coerce is not None and s.fm.default is None for s in self.steps
        )

    def reads(self) -> frozenset[str]:
        """The top-level keys of a record that mapping it can look at."""
        return frozenset(step.read.split(".", 1)[0] for step in self.steps) | {
            step.read for step in self.steps
        }

    def apply(self, record: Mapping[str, Any], region: str = "US") -> MappingResult:
        result = MappingResult()
        values, mapping, outbound = result.values, self.mapping, self.outbound
        convert = _outbound_value if outbound else _inbound_value
        for step in self.steps:
            fm, read = step.fm, step.read
            value = record.get(read, MISSING) if step.flat_read else get_path(record, read)
            # _is_empty, inlined: most fields of most records are empty
            if value is MISSING or value is None or value == "" or value == []:
                if fm.default is not None:
                    value = fm.default
                elif fm.required and outbound:
                    # required is what the remote side demands; canonical records are
                    # checked by validation rules, and inbound updates may be partial
                    result.errors.append(FieldError(read, "required field is missing", None))
                    continue
                else:
                    continue
            try:
                if step.coerce is not None:
                    converted = step.coerce(value, region)
                else:
                    converted = convert(fm, value, mapping, region)
            except (ValueError, TypeError, MappingError) as exc:
                result.errors.append(FieldError(read, str(exc), value))
                continue
            if step.flat_write:
                values[step.write] = converted
            else:
                set_path(values, step.write, converted)
        return result

    def apply_batch(
        self, records: Sequence[Mapping[str, Any]], region: str = "US"
    ) -> list[MappingResult]:
        """``apply`` of each record (the same results), a field of every record at a time
        when the mapping allows (``by_column``): a text field's text values are taken as
        they are, which is what their coercion gives back."""
        if not self.by_column:
            return [self.apply(record, region) for record in records]
        results = [MappingResult() for _ in records]
        for step in self.steps:
            read, write, coerce, flat = step.read, step.write, step.coerce, step.flat_write
            assert coerce is not None
            text = coerce is _TEXT and flat
            if step.flat_read:
                column = [record.get(read) for record in records]
            else:
                column = [get_path(record, read) for record in records]
            for result, value in zip(results, column, strict=True):
                if value.__class__ is str:
                    if not value:
                        continue
                    if text:
                        result.values[write] = value
                        continue
                elif value is MISSING or value is None or value == "" or value == []:
                    continue
                try:
                    converted = coerce(value, region)
                except (ValueError, TypeError, MappingError) as exc:
                    result.errors.append(FieldError(read, str(exc), value))
                    continue
                if flat:
                    result.values[write] = converted
                else:
                    set_path(result.values, write, converted)
        return results


# the coercion of a text field, which gives back any ``str`` it is given
_TEXT = coercer(FieldType.STRING)


def compile_outbound(mapping: MappingSet, object_type: ObjectType | str) -> CompiledMapping:
    """``map_outbound`` prepared for many records of ``object_type``."""
    return CompiledMapping(mapping, object_type, Direction.OUTBOUND)


def compile_inbound(mapping: MappingSet, object_type: ObjectType | str) -> CompiledMapping:
    """``map_inbound`` prepared for many records of ``object_type``."""
    return CompiledMapping(mapping, object_type, Direction.INBOUND)


def _apply(
    mapping: MappingSet,
    object_type: ObjectType | str,
    record: dict[str, Any],
    direction: Direction,
    region: str,
) -> MappingResult:
    return CompiledMapping(mapping, object_type, direction).apply(record, region)


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
