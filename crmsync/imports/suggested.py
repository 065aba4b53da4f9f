"""The sample a preview and a job without a mapping look at, and the mapping it suggests."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

from crmsync.imports.table import SourceRow, TableReader
from crmsync.mapping.suggest import Suggestion, suggest_mappings

SAMPLE_ROWS: Final = 200


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


def suggestions(
    reader: TableReader, sample: Sample, object_type: str, region: str
) -> list[Suggestion]:
    return suggest_mappings(reader.info.headers, sample.columns, object_type, region)


def suggested_columns(reader: TableReader, object_type: str, region: str) -> dict[str, str | None]:
    """Header -> the suggested canonical field (None when nothing is likely enough)."""
    sample = take_sample(reader)
    return {s.source: s.target for s in suggestions(reader, sample, object_type, region)}
