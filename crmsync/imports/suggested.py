"""The sample a preview and a job without a mapping look at, and the mapping it suggests.

Suggestions are checked against the sample before they are offered: a column whose
values do not fit the suggested field (``Loan Type`` values under ``contact_type``, text
under a number) is left unmapped, its target listed as an alternative only, so an
import with the suggested mapping does not fail or corrupt every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

from crmsync.imports.table import SourceRow, TableReader
from crmsync.imports.valuemaps import enum_values, synonyms, value_key
from crmsync.mapping.coerce import to_canonical
from crmsync.mapping.schema import FieldType, field_type
from crmsync.mapping.suggest import Alternative, Suggestion, suggest_mappings

SAMPLE_ROWS: Final = 200
# Share of a column's sample values the suggested field must take.
MIN_FIT: Final = 0.5
_CHECKED_TYPES: Final = frozenset(
    {FieldType.EMAIL, FieldType.PHONE, FieldType.NUMBER, FieldType.DATE, FieldType.DATETIME}
)


@dataclass
class Sample:
    rows: list[SourceRow]
    columns: dict[str, list[Any]]


def take_sample(reader: TableReader, size: int = SAMPLE_ROWS) -> Sample:
    rows = list(islice(reader.rows(), size))
    columns: dict[str, list[Any]] = {h: [] for h in reader.info.headers}
    for row in rows:
        for header in reader.info.headers:
            value = row.values.get(header)
            if value not in (None, ""):
                columns[header].append(value)
    return Sample(rows, columns)


def fit(object_type: str, target: str, values: Sequence[Any], region: str) -> float:
    """Share of ``values`` that ``target`` takes (1.0 when there is nothing to check)."""
    if not values:
        return 1.0
    allowed = enum_values(object_type, target)
    if allowed:
        known = {value_key(v) for v in allowed} | synonyms(object_type, target).keys()
        return sum(value_key(v) in known for v in values) / len(values)
    kind = field_type(object_type, target)
    if kind not in _CHECKED_TYPES:
        return 1.0
    good = 0
    for value in values:
        try:
            to_canonical(value, kind, region)
            good += 1
        except (ValueError, TypeError):
            pass
    return good / len(values)


def _checked(s: Suggestion, sample: Sample, object_type: str, region: str) -> Suggestion:
    if s.target is None:
        return s
    share = fit(object_type, s.target, sample.columns.get(s.source, []), region)
    if share >= MIN_FIT:
        return s
    demoted = Alternative(s.target, round(s.confidence * share, 3))
    return Suggestion(s.source, None, 0.0, [demoted, *s.alternatives][:3])


def header_suggestions(
    reader: TableReader, sample: Sample, object_type: str, region: str
) -> list[Suggestion]:
    """What each header (and its values' type) suggests, before the sample's check."""
    return suggest_mappings(
        reader.info.headers, sample.columns, object_type, region, for_import=True
    )


def checked(
    found: list[Suggestion], sample: Sample, object_type: str, region: str
) -> list[Suggestion]:
    """``found`` with each suggestion whose field does not take the column's values demoted."""
    return [_checked(s, sample, object_type, region) for s in found]


def suggestions(
    reader: TableReader, sample: Sample, object_type: str, region: str
) -> list[Suggestion]:
    found = header_suggestions(reader, sample, object_type, region)
    return checked(found, sample, object_type, region)


def suggested_columns(reader: TableReader, object_type: str, region: str) -> dict[str, str | None]:
    """Header -> the suggested canonical field (None when nothing is likely enough)."""
    sample = take_sample(reader)
    return {s.source: s.target for s in suggestions(reader, sample, object_type, region)}
