"""Source rows -> canonical record payloads, through the mapping engine and the rules.

An import's column mapping (file header -> canonical field) is turned into a
``MappingSet`` whose remote side is the file, and each row is mapped inbound with the
engine's own coercion: e-mails normalised, phones to E.164, numbers and dates parsed.
Before that, each column's value map translates its values (``valuemaps``); after it,
the validation rules and the records service's own checks run (``rowrules``). Every
problem of a row is found in one pass and has a severity: an error fails the row, a
warning leaves the bad value out and the row imports.

Two targets are not canonical fields: ``external_ref`` is copied as text, and
``full_name`` is split into ``first_name`` and ``last_name``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError

from crmsync.fields.views import all_fields
from crmsync.imports.errors import InvalidOptions
from crmsync.imports.names import split_full_name
from crmsync.imports.report import FORMULA_START
from crmsync.imports.rowrules import Problem, RowRules
from crmsync.imports.valuemaps import MISS, CompiledValueMap, UnknownValue, ValueMap
from crmsync.imports.valuemaps import compile_value_map as _compile_value_map
from crmsync.mapping.engine import MappingResult, compile_inbound
from crmsync.mapping.model import FieldMapping, MappingSet, ObjectMapping
from crmsync.mapping.schema import (
    CANONICAL_SCHEMA,
    IMPORT_TYPES,
    FieldType,
    ObjectType,
    field_type,
)
from crmsync.mapping.synonyms import normalise_header
from crmsync.mapping.transforms import Transform, TransformKind
from crmsync.quality.batch_phone import normalize_phones
from crmsync.quality.cleansing_names import capitalise_name
from crmsync.quality.normalize import strip_invisible
from crmsync.quality.validation import RuleSet, Severity
from crmsync.records.payloads import plain_rows

EXTERNAL_REF: Final = "external_ref"
FULL_NAME: Final = "full_name"
CUSTOM: Final = "custom_fields."
NAME_FIELDS: Final = frozenset({"first_name", "last_name"})
OBJECT_TYPES: Final = tuple(t.value for t in IMPORT_TYPES)
NEUTRALISED: Final = tuple("'" + c for c in FORMULA_START)
# targets an import accepts besides the canonical schema's fields
PSEUDO_TARGETS: Final = frozenset({EXTERNAL_REF, FULL_NAME})
_TEXT: Final = frozenset({str})


@dataclass(slots=True)
class MappedRow:
    fields: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # ``fields`` is the records service's ``parse_fields`` answer: it need not parse again
    parsed: bool = False

    @property
    def errors(self) -> list[str]:
        return [p.text for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[str]:
        return [p.text for p in self.problems if p.severity is Severity.WARNING]


def has_full_name(object_type: str) -> bool:
    fields = CANONICAL_SCHEMA.get(ObjectType(object_type), {})
    return fields.keys() >= NAME_FIELDS


def custom_field_name(header: str) -> str:
    """``Loan Amount`` -> ``custom_fields.loan_amount``."""
    return CUSTOM + (normalise_header(header).replace(" ", "_") or "column")


def with_unmapped(
    columns: Mapping[str, str | None], headers: Sequence[str]
) -> dict[str, str | None]:
    """``columns`` with every header mapped to nothing kept as its own custom field."""
    out: dict[str, str | None] = {h: t for h, t in columns.items() if t}
    taken = set(out.values())
    for header in headers:
        if out.get(header):
            continue
        name, n = custom_field_name(header), 2
        base = name
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        out[header] = name
        taken.add(name)
    return out


_PERCENT: Final = [Transform(kind=TransformKind.PERCENT)]
_SAYS_PERCENT: Final = re.compile(r"%|\bper ?cent\b|\bpct\b", re.IGNORECASE)


def _percentage_of_share(object_type: str, header: str, target: str) -> bool:
    """A column whose header says percent ("Probability (%)", as Salesforce exports it)
    filling a share from 0 to 1: its 50 is 0.5."""
    return (object_type, target) in _SHARES and bool(_SAYS_PERCENT.search(header))


# the canonical fields that hold a share from 0 to 1 (a deal's probability)
_SHARES: Final = {(str(t), f.name): f for t, f in all_fields() if f.minimum == 0 and f.maximum == 1}


def mapping_set(object_type: str, columns: Mapping[str, str | None]) -> MappingSet:
    """The MappingSet of an import's columns; InvalidOptions names the wrong entry."""
    if object_type not in OBJECT_TYPES:
        raise InvalidOptions(f"object type must be one of {', '.join(OBJECT_TYPES)}")
    if FULL_NAME in columns.values() and not has_full_name(object_type):
        raise InvalidOptions(f"mapping: {object_type} have no first and last name for full_name")
    fields = [
        FieldMapping(
            source=target,
            target=header,
            type=field_type(object_type, target) or FieldType.STRING,
            transforms=_PERCENT if _percentage_of_share(object_type, header, target) else [],
        )
        for header, target in columns.items()
        if target and target not in PSEUDO_TARGETS
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
    if value.__class__ is str and value.isascii() and value.isprintable():
        # nothing invisible, and the only whitespace is the space: most cells are kept
        if "  " in value or value[:1] == " " or value[-1:] == " ":
            value = " ".join(value.split())
        if value.startswith(NEUTRALISED):
            value = value[1:]
        return value
    if isinstance(value, str):
        value = " ".join(strip_invisible(value).split())
        # undo the apostrophe crmsync's own CSV reports put before formula-like cells
        if value.startswith(NEUTRALISED):
            value = value[1:]
    return value


def _clean_already(values: Mapping[str, Any]) -> bool:
    """Whether ``_cleanse`` would leave every cell of a row as it is, judged on the row's
    cells joined (most rows: plain ASCII text, single spaces, no formula apostrophe)."""
    cells = values.values()
    if {*map(type, cells)} != _TEXT:
        return False
    joined = "\x00".join(cells)  # a cell's edges are next to a NUL or the ends
    return (
        joined.isascii()
        and "".join(cells).isprintable()
        and "  " not in joined
        and not joined.startswith((" ", "'"))
        and not joined.endswith(" ")
        and " \x00" not in joined
        and "\x00 " not in joined
        and "\x00'" not in joined
    )


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
        value_maps: Mapping[str, ValueMap] | None = None,
        severity: Mapping[str, Severity] | None = None,
        rules: RuleSet | None = None,
        keep_invalid: bool = False,
    ) -> None:
        self.object_type = object_type
        self.columns = {h: t for h, t in columns.items() if t}
        self.mapping = mapping_set(object_type, self.columns)
        self.ref_header = next((h for h, t in self.columns.items() if t == EXTERNAL_REF), None)
        self.name_header = next((h for h, t in self.columns.items() if t == FULL_NAME), None)
        self.region = region
        self.cleanse = cleanse
        self.validate = validate
        self._fields = self.mapping.objects[ObjectType(object_type)].fields
        self._compiled = compile_inbound(self.mapping, object_type)
        if not self._fields and not self.ref_header and not self.name_header:
            raise InvalidOptions("the mapping maps no column to a field")
        maps = value_maps or {}
        unknown = sorted(set(maps) - set(self.columns))
        if unknown:
            raise InvalidOptions(f"value_maps: {unknown[0]!r} is not a mapped column")
        self._value_maps: dict[str, CompiledValueMap] = {}
        for header, target in self.columns.items():
            if target in PSEUDO_TARGETS:
                continue
            compiled = _compile_value_map(object_type, str(target), maps.get(header))
            if compiled is not None:
                self._value_maps[header] = compiled
        self._phone_headers = [f.target for f in self._fields if f.type is FieldType.PHONE]
        self.rules = RowRules(
            object_type,
            {t: h for h, t in self.columns.items() if t},
            region=region,
            validate=validate,
            severity=severity or {},
            rules=rules,
            keep_invalid=keep_invalid,
        )

    def prepare(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Parse the phones of a batch of rows together, before ``map`` takes them one by one.

        ``normalize_phones`` decides the common shapes for the whole batch at once and
        remembers the answers, which are the ones ``map`` would get from parsing each.
        """
        cells = (row.get(header) for row in rows for header in self._phone_headers)
        texts = [_cleanse(v) if self.cleanse else v for v in cells if isinstance(v, str)]
        normalize_phones((t for t in texts if t), self.region)

    def _translate(
        self, present: dict[str, Any], problems: list[Problem], kept: dict[str, Any]
    ) -> None:
        """Apply the value maps to ``present`` in place; unknown values per their policy."""
        for header, compiled in self._value_maps.items():
            value = present.get(header)
            if value is None:
                continue
            found = compiled.lookup(value)
            if found is not MISS:
                present[header] = found
                continue
            policy = compiled.policy
            if policy is None:  # an enum field without a map: the rules judge the value
                continue
            target = str(self.columns[header])
            if policy.unknown is UnknownValue.DEFAULT:
                present[header] = policy.default
            elif policy.unknown is UnknownValue.KEEP:
                del present[header]
                kept[target.removeprefix(CUSTOM)] = value
            else:
                del present[header]
                problems.append(
                    Problem(header, target, "value_map", "value not in the value map", value)
                )

    def map(self, values: Mapping[str, Any]) -> MappedRow:
        values, problems, kept = self._prepared(values)
        out = self._mapped(values, problems, kept, self._compiled.apply(values, self.region))
        out.parsed = self.rules.check(out.fields, out.problems)
        return out

    def map_batch(self, rows: Sequence[Mapping[str, Any]]) -> list[MappedRow]:
        """``map`` of each row (the same answers), a column at a time where it can be: the
        engine's coercion (``apply_batch``) and the records service's checks for the rows
        whose values are all plain text (``payloads.plain_rows``), without a model
        validation per row."""
        prepared = [self._prepared(values) for values in rows]
        ready = [values for values, _p, _k in prepared]
        # the phones parsed together first (``prepare``, on the cells already cleansed)
        cells = (values.get(header) for values in ready for header in self._phone_headers)
        normalize_phones((v for v in cells if v and isinstance(v, str)), self.region)
        results = self._compiled.apply_batch(ready, self.region)
        outs = [
            self._mapped(values, problems, kept, result)
            for (values, problems, kept), result in zip(prepared, results, strict=True)
        ]
        fields = [out.fields for out in outs]
        plain = plain_rows(self.object_type, fields)
        checks = self.rules.field_checks_for(fields)
        for out, fast in zip(outs, plain, strict=True):
            out.parsed = self.rules.check(out.fields, out.problems, fast, checks)
        return outs

    def _prepared(
        self, values: Mapping[str, Any]
    ) -> tuple[Mapping[str, Any], list[Problem], dict[str, Any]]:
        """A row's cells cleansed and through the value maps, the problems found doing
        so, and the unknown values a map keeps as custom fields."""
        if self.cleanse and not _clean_already(values):
            values = {k: _cleanse(v) for k, v in values.items()}
        problems: list[Problem] = []
        kept: dict[str, Any] = {}
        if self._value_maps:
            # an empty cell means "no value", not "set to empty" (the engine skips them too)
            present = {k: v for k, v in values.items() if v not in ("", None)}
            self._translate(present, problems, kept)
            values = present
        return values, problems, kept

    def _mapped(
        self,
        values: Mapping[str, Any],
        problems: list[Problem],
        kept: dict[str, Any],
        result: MappingResult,
    ) -> MappedRow:
        """A row's fields and problems from the engine's answer, before the rules' checks."""
        out = MappedRow(result.values, problems)
        for error in result.errors:
            out.problems.append(
                self.rules.coercion_problem(error.field, error.message, error.value)
            )
        if self.ref_header and (ref := values.get(self.ref_header)) not in ("", None):
            out.fields[EXTERNAL_REF] = str(ref)
        if self.name_header and (name := values.get(self.name_header)) not in ("", None):
            first, last = split_full_name(str(name))
            for field_name, part in (("first_name", first), ("last_name", last)):
                if part and field_name not in out.fields:
                    out.fields[field_name] = part
        if kept:
            custom = out.fields.setdefault("custom_fields", {})
            custom.update(kept)
        if self.cleanse:
            for field_name in NAME_FIELDS & out.fields.keys():
                if isinstance(out.fields[field_name], str):
                    out.fields[field_name] = capitalise_name(out.fields[field_name])
        return out
