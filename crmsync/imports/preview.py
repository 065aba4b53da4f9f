"""Preview of an uploaded file: the real import pipeline on a sample, reported per column.

The sample's rows go through exactly what an import does with the same options: the
mapping, value maps, cleansing, the validation rules with their severities, the records
service's checks, and the duplicate check against the workspace and within the sample.
A column the preview reports without an error does not fail rows of the sample, and
rows further down the file meet the same checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from crmsync.dedup.engine import DedupSettings
from crmsync.dedup.engine.rules import DUPLICATE
from crmsync.dedup.guard import DEDUP_TYPES, DuplicateGuard
from crmsync.imports.mapped import row_key
from crmsync.imports.options import ImportOptions, OnDuplicate
from crmsync.imports.preview_columns import ColumnReport, suggested_value_maps
from crmsync.imports.preview_hints import dropped_hint, region_hints
from crmsync.imports.readers import open_table
from crmsync.imports.rowmap import MappedRow, RowMapper, with_unmapped
from crmsync.imports.settings import ImportSettings
from crmsync.imports.statusmaps import resolve_value_maps
from crmsync.imports.suggested import Sample, checked, header_suggestions, take_sample
from crmsync.imports.table import SourceRow
from crmsync.mapping.detect import detect_type
from crmsync.quality.validation import Severity
from crmsync.quality.validation_severity import workspace_overrides
from crmsync.store.models import Workspace

FIRST_ROWS: Final = 20
MAX_WARNINGS: Final = 100
MAX_EXAMPLES: Final = 5


def _workspace_settings(session: Session | None, workspace_id: uuid.UUID | None) -> dict[str, Any]:
    if session is None or workspace_id is None:
        return {}
    workspace = session.get(Workspace, workspace_id)
    return dict(workspace.settings or {}) if workspace is not None else {}


def _guard(
    session: Session | None,
    workspace_id: uuid.UUID | None,
    options: ImportOptions,
    settings: Mapping[str, Any],
) -> DuplicateGuard | None:
    """The dedup index the import would start from (None when it would not dedup)."""
    if session is None or workspace_id is None:
        return None
    if options.object_type not in DEDUP_TYPES or options.on_duplicate is OnDuplicate.CREATE:
        return None
    configured = dict(settings.get("dedup") or {})
    configured.setdefault("region", options.region)
    dedup = DedupSettings.model_validate(configured)
    return DuplicateGuard.load(session, workspace_id, options.object_type, dedup)


def _suggested(proposed: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "source": s.source,
            "target": s.target,
            "confidence": s.confidence,
            "alternatives": [
                {"target": a.target, "confidence": a.confidence} for a in s.alternatives
            ],
        }
        for s in proposed
    ]


def _map_sample(
    mapper: RowMapper, sample: Sample, reports: dict[str, ColumnReport]
) -> tuple[list[tuple[SourceRow, MappedRow]], dict[str, Any], list[dict[str, Any]]]:
    """Each sample row through the mapper; per-column and per-row findings collected."""
    mapped: list[tuple[SourceRow, MappedRow]] = []
    row_problems: dict[str, dict[str, Any]] = {}
    warnings: list[dict[str, Any]] = []
    mapper.prepare([row.values for row in sample.rows if not row.problem])
    for row in sample.rows:
        if row.problem:
            entry = row_problems.setdefault(
                row.problem, {"message": row.problem, "severity": "error", "count": 0, "lines": []}
            )
            entry["count"] += 1
            entry["lines"] = (entry["lines"] + [row.line])[:MAX_EXAMPLES]
            warnings.append({"line": row.line, "message": row.problem, "severity": "error"})
            continue
        out = mapper.map(row.values)
        mapped.append((row, out))
        for report in reports.values():
            report.see(row.values, out)
        for problem in out.problems:
            warnings.append(
                {"line": row.line, "message": problem.text, "severity": problem.severity.value}
            )
            if problem.column is None or problem.column not in reports:
                entry = row_problems.setdefault(
                    problem.message,
                    {
                        "rule": problem.rule,
                        "message": problem.message,
                        "severity": problem.severity.value,
                        "count": 0,
                        "lines": [],
                    },
                )
                entry["count"] += 1
                entry["lines"] = (entry["lines"] + [row.line])[:MAX_EXAMPLES]
    return mapped, row_problems, warnings


def _dedup_sample(
    guard: DuplicateGuard | None, mapped: list[tuple[SourceRow, MappedRow]]
) -> list[dict[str, Any]]:
    """Rows of the sample that duplicate a record of the workspace or an earlier row."""
    if guard is None:
        return []
    valid = [(row, out) for row, out in mapped if not out.errors]
    found = guard.check_batch([(row_key(row), out.fields) for row, out in valid])
    line_of = {row_key(row): row.line for row, _out in valid}
    out: list[dict[str, Any]] = []
    for row, _mapped in valid:
        status, of, _score = found.get(row_key(row), (None, "", 0.0))
        if status != DUPLICATE:  # a possible duplicate imports (and is queued for review)
            continue
        if of in line_of:
            out.append({"line": row.line, "duplicate_of_line": line_of[of]})
        else:
            out.append({"line": row.line, "duplicate_of": of})
    return out


def preview_file(
    path: Path,
    filename: str,
    limits: ImportSettings,
    options: ImportOptions,
    columns: Mapping[str, str | None] | None = None,
    *,
    session: Session | None = None,
    workspace_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """What the file holds and what importing it with these options would do, on a sample."""
    reader = open_table(path, filename, limits, sheet=options.sheet, header_row=options.header_row)
    info = reader.info
    sample = take_sample(reader)
    found = header_suggestions(reader, sample, options.object_type, options.region)
    proposed = checked(found, sample, options.object_type, options.region)
    if columns is None:
        columns = {s.source: s.target for s in proposed}
    used: dict[str, str | None] = {h: t for h, t in columns.items() if t}
    if options.keep_unmapped:
        used = with_unmapped(used, info.headers)
    settings = _workspace_settings(session, workspace_id)
    maps = options.value_maps
    if session is not None and workspace_id is not None:
        maps = resolve_value_maps(session, workspace_id, maps)
    severity: dict[str, Severity] = {**workspace_overrides(settings), **options.severity}
    reports = {
        h: ColumnReport(h, used.get(h), options.object_type, maps.get(h)) for h in info.headers
    }
    mapped: list[tuple[SourceRow, MappedRow]] = []
    row_problems: dict[str, Any] = {}
    warnings: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    if used:
        mapper = RowMapper(
            options.object_type,
            used,
            region=options.region,
            cleanse=options.cleanse,
            validate=options.validate_rows,
            value_maps=maps,
            severity=severity,
            keep_invalid=options.keep_invalid,
        )
        mapped, row_problems, warnings = _map_sample(mapper, sample, reports)
        duplicates = _dedup_sample(_guard(session, workspace_id, options, settings), mapped)
    hints = region_hints(options.object_type, options.region, found, used, sample.columns)
    dropped = dropped_hint(
        used, info.headers, {h: r.filled for h, r in reports.items()}, len(sample.rows)
    )
    failing_lines = sorted(
        [row.line for row in sample.rows if row.problem]
        + [row.line for row, out in mapped if out.errors]
    )
    failing = len(failing_lines)
    return {
        "format": info.format,
        "encoding": info.encoding,
        "delimiter": info.delimiter,
        "sheet": info.sheet,
        "headers": info.headers,
        "file_warnings": info.warnings,
        "hints": hints + ([dropped] if dropped else []),
        "rows": [row.values for row in sample.rows[:FIRST_ROWS]],
        "sampled_rows": len(sample.rows),
        "detected_types": {
            h: (t.value if (t := detect_type(v, options.region)) else None)
            for h, v in sample.columns.items()
        },
        "suggested_mapping": _suggested(proposed),
        "mapping": dict(used),
        "columns": [report.out() for report in reports.values()],
        "row_problems": list(row_problems.values()),
        "suggested_value_maps": suggested_value_maps(reports.values()),
        "sample": {
            "rows": len(sample.rows),
            "would_fail": failing,
            "would_import": len(sample.rows) - failing - len(duplicates),
            "duplicates": len(duplicates),
            "with_warnings": sum(1 for _r, out in mapped if out.warnings and not out.errors),
        },
        "failing_lines": failing_lines[:MAX_WARNINGS],
        "duplicates": duplicates[:MAX_WARNINGS],
        "warnings": warnings[:MAX_WARNINGS],
        "warning_count": len(warnings),
    }
