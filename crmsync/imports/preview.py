"""Preview of an uploaded file: headers, first rows, types, suggested mapping, warnings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from crmsync.imports.options import ImportOptions
from crmsync.imports.readers import open_table
from crmsync.imports.rowmap import RowMapper
from crmsync.imports.settings import ImportSettings
from crmsync.imports.suggested import suggestions, take_sample
from crmsync.mapping.detect import detect_type

FIRST_ROWS: Final = 20
MAX_WARNINGS: Final = 100


def preview_file(
    path: Path,
    filename: str,
    limits: ImportSettings,
    options: ImportOptions,
    columns: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """What the file holds and what importing it with this mapping would say."""
    reader = open_table(path, filename, limits, sheet=options.sheet)
    sample = take_sample(reader)
    proposed = suggestions(reader, sample, options.object_type, options.region)
    if columns is None:
        columns = {s.source: s.target for s in proposed}
    warnings: list[dict[str, Any]] = []
    mapped = {h: t for h, t in columns.items() if t}
    if mapped:
        mapper = RowMapper(
            options.object_type,
            mapped,
            region=options.region,
            cleanse=options.cleanse,
            validate=True,
        )
        for row in sample.rows:
            problems = [row.problem] if row.problem else mapper.map(row.values).errors
            warnings.extend({"line": row.line, "message": p} for p in problems)
    info = reader.info
    return {
        "format": info.format,
        "encoding": info.encoding,
        "delimiter": info.delimiter,
        "sheet": info.sheet,
        "headers": info.headers,
        "file_warnings": info.warnings,
        "rows": [row.values for row in sample.rows[:FIRST_ROWS]],
        "sampled_rows": len(sample.rows),
        "detected_types": {
            h: (t.value if (t := detect_type(v, options.region)) else None)
            for h, v in sample.columns.items()
        },
        "suggested_mapping": [
            {
                "source": s.source,
                "target": s.target,
                "confidence": s.confidence,
                "alternatives": [
                    {"target": a.target, "confidence": a.confidence} for a in s.alternatives
                ],
            }
            for s in proposed
        ],
        "mapping": dict(columns),
        "warnings": warnings[:MAX_WARNINGS],
        "warning_count": len(warnings),
    }
