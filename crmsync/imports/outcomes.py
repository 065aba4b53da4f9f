"""Every row's outcome: listed by outcome, and as a CSV beside the original row.

Outcomes come from two places, merged by row number: ``ImportRow`` (failed and duplicate
rows, one each) and ``ImportBatch`` (the rows each batch made records of). The CSV reads
the stored upload again for the original cells, so it holds every row of the file, in
order, with ``import_outcome`` empty for rows not processed yet.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.imports.jobs import open_job_table
from crmsync.imports.report import csv_lines
from crmsync.imports.settings import ImportSettings
from crmsync.store.models.imports import ImportBatch, ImportJob, ImportRow

Outcome = Literal["created", "updated", "duplicate", "failed"]
OUTCOMES: Final = ("created", "updated", "duplicate", "failed")
WRITTEN: Final = frozenset({"created", "updated"})
OUTCOME_COLUMNS: Final = ("import_line", "import_outcome", "import_record_id", "import_reasons")
_CHUNK: Final = 1000


def _row_outcomes(
    session: Session, job: ImportJob, outcome: str | None, after: int
) -> Iterator[dict[str, Any]]:
    stmt = select(ImportRow).where(ImportRow.job_id == job.id, ImportRow.row_number > after)
    if outcome is not None:
        stmt = stmt.where(ImportRow.outcome == outcome)
    stmt = stmt.order_by(ImportRow.row_number).execution_options(yield_per=_CHUNK)
    for row in session.scalars(stmt):
        yield {
            "row": row.row_number,
            "line": row.line,
            "outcome": row.outcome,
            "record_id": str(row.duplicate_of) if row.duplicate_of else None,
            "reasons": list(row.errors),
        }


def _written_outcomes(
    session: Session, job: ImportJob, outcome: str | None, after: int
) -> Iterator[dict[str, Any]]:
    stmt = (
        select(ImportBatch)
        .where(ImportBatch.job_id == job.id, ImportBatch.last_row > after)
        .order_by(ImportBatch.first_row)
        .execution_options(yield_per=16)
    )
    for batch in session.scalars(stmt):
        for number, line, status, record_id, warnings in batch.rows:
            if number <= after or (outcome is not None and status != outcome):
                continue
            yield {
                "row": number,
                "line": line,
                "outcome": status,
                "record_id": record_id,
                "reasons": list(warnings or []),
            }


def outcomes(
    session: Session, job: ImportJob, outcome: str | None = None, after: int = -1
) -> Iterator[dict[str, Any]]:
    """Outcomes of the job's rows after row number ``after``, in row order."""
    streams = []
    if outcome is None or outcome not in WRITTEN:
        streams.append(_row_outcomes(session, job, outcome, after))
    if outcome is None or outcome in WRITTEN:
        streams.append(_written_outcomes(session, job, outcome, after))
    return heapq.merge(*streams, key=lambda item: int(item["row"]))


def page(
    session: Session, job: ImportJob, outcome: str | None, after: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` outcomes and the ``after`` of the next page (None at the end)."""
    items: list[dict[str, Any]] = []
    for item in outcomes(session, job, outcome, after):
        if len(items) == limit:
            return items, int(items[-1]["row"])
        items.append(item)
    return items, None


def outcome_csv(session: Session, limits: ImportSettings, job: ImportJob) -> Iterator[str]:
    """The file's rows as read, each with its line, outcome, record id and reasons."""
    # opened here, so a file that cannot be read fails before the answer starts streaming
    reader = open_job_table(limits, job)
    headers = [str(h) for h in job.headers]

    def rows() -> Iterator[list[Any]]:
        known = outcomes(session, job)
        pending = next(known, None)
        for row in reader.rows():
            while pending is not None and int(pending["row"]) < row.number:
                pending = next(known, None)
            cells = [row.values.get(h, "") for h in headers]
            if pending is not None and int(pending["row"]) == row.number:
                reasons = "; ".join(map(str, pending["reasons"]))
                yield [*cells, row.line, pending["outcome"], pending["record_id"] or "", reasons]
            else:
                yield [*cells, row.line, "", "", ""]

    return csv_lines([*headers, *OUTCOME_COLUMNS], rows())
