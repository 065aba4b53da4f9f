"""Source rows -> canonical record payloads, through the mapping engine.

An import's column mapping (file header -> canonical field) is turned into a
``MappingSet`` whose remote side is the file, and each row is mapped inbound with the
engine's own coercion: e-mails normalised, phones to E.164, numbers and dates parsed.
A field that cannot be coerced is a row error when ``validate`` is on, and is left out
of the record when it is off. ``external_ref`` is not a mapped canonical field, so it is
copied as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError

from crmsync.imports.errors import InvalidOptions
from crmsync.imports.report import FORMULA_START
from crmsync.mapping.engine import compile_inbound
from crmsync.mapping.model import FieldMapping, MappingSet, ObjectMapping
from crmsync.mapping.schema import FieldType, ObjectType, field_type
from crmsync.quality.batch_phone import normalize_phones
from crmsync.quality.cleansing_names import capitalise_name
from crmsync.quality.normalize import strip_invisible

EXTERNAL_REF: Final = "external_ref"
NAME_FIELDS: Final = frozenset({"first_name", "last_name"})
OBJECT_TYPES: Final = tuple(t.value for t in ObjectType)
NEUTRALISED: Final = tuple("'" + c for c in FORMULA_START)


@dataclass(slots=True)
class MappedRow:
    fields: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def mapping_set(object_type: str, columns: Mapping[str, str | None]) -> MappingSet:
    """The MappingSet of an import's columns; InvalidOptions names the wrong entry."""
    if object_type not in OBJECT_TYPES:
        raise InvalidOptions(f"object type must be one of {', '.join(OBJECT_TYPES)}")
    fields = [
        FieldMapping(
            source=target,
            target=header,
            type=field_type(object_type, target) or FieldType.STRING,
        )
        for header, target in columns.items()
        if target and target != EXTERNAL_REF
    ]
    try:
        return MappingSet(
            provider="import",
            objects={ObjectType(object_type): ObjectMapping(remote_object="file", fields=fields)},
        )
    except ValidationError as exc:
        problem = exc.errors()[0].get("ctx", {}).get("error") or exc.errors()[0]["msg"]
        raise InvalidOptions(f"mapping: {problem}") from None


def _cleanse(value: Any) -> Any:
    if isinstance(value, str):
        value = " ".join(strip_invisible(value).split())
        # undo the apostrophe crmsync's own CSV reports put before formula-like cells
        if value.startswith(NEUTRALISED):
            value = value[1:]
    return value


class RowMapper:
    """Maps, cleanses and checks one row at a time for one import."""

    def __init__(
        self,
        object_type: str,
        columns: Mapping[str, str | None],
        *,
        region: str = "US",
        cleanse: bool = True,
        validate: bool = True,
    ) -> None:
        self.object_type = object_type
        self.mapping = mapping_set(object_type, columns)
        self.ref_header = next((h for h, t in columns.items() if t == EXTERNAL_REF), None)
        self.region = region
        self.cleanse = cleanse
        self.validate = validate
        self._fields = self.mapping.objects[ObjectType(object_type)].fields
        self._compiled = compile_inbound(self.mapping, object_type)
        if not self._fields and not self.ref_header:
            raise InvalidOptions("the mapping maps no column to a field")

    def prepare(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Parse the phones of a batch of rows together, before ``map`` takes them one by one.

        ``normalize_phones`` decides the common shapes for the whole batch at once and
        remembers the answers, which are the ones ``map`` would get from parsing each.
        """
        headers = [f.target for f in self._fields if f.type is FieldType.PHONE]
        cells = (row.get(header) for row in rows for header in headers)
        texts = [_cleanse(v) if self.cleanse else v for v in cells if isinstance(v, str)]
        normalize_phones((t for t in texts if t), self.region)

    def map(self, values: Mapping[str, Any]) -> MappedRow:
        if self.cleanse:
            values = {k: _cleanse(v) for k, v in values.items()}
        # an empty cell means "no value", not "set to empty"
        present = {k: v for k, v in values.items() if v not in ("", None)}
        result = self._compiled.apply(present, self.region)
        out = MappedRow(result.values)
        if self.validate:
            out.errors = [f"{e.field}: {e.message}" for e in result.errors]
        if self.ref_header and present.get(self.ref_header) is not None:
            out.fields[EXTERNAL_REF] = str(present[self.ref_header])
        if self.cleanse:
            for name in NAME_FIELDS & out.fields.keys():
                if isinstance(out.fields[name], str):
                    out.fields[name] = capitalise_name(out.fields[name])
        if not out.fields and not out.errors:
            out.errors.append("no mapped column has a value")
        return out
