"""One batch of an import, mapped: dedup, write records and the rows that failed.

Everything here runs in the caller's transaction, together with the job's checkpoint,
so a batch is either fully imported and counted or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.orm import Session

from crmsync.dedup import reviews
from crmsync.dedup.engine.rules import DUPLICATE, POSSIBLE
from crmsync.dedup.guard import DuplicateGuard, Matched
from crmsync.imports.mapped import MappedBatch
from crmsync.imports.mapped import row_key as _pending_key
from crmsync.imports.options import ImportOptions, OnDuplicate
from crmsync.imports.rowmap import EXTERNAL_REF
from crmsync.imports.settings import ImportSettings
from crmsync.imports.table import SourceRow, truncate_cells
from crmsync.quality.normalize import remember_e164, remember_emails
from crmsync.records import service
from crmsync.records.errors import RecordError
from crmsync.store.base import new_id
from crmsync.store.models.imports import ImportJob

log = structlog.get_logger("crmsync.imports")


@dataclass
class BatchCounts:
    created: int = 0
    updated: int = 0
    failed: int = 0
    duplicates: int = 0
    # imported rows that may duplicate a record (queued for review)
    possible: int = 0
    # rows that failed or were skipped as duplicates: one ImportRow each
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    # rows that became records: [number, line, created|updated, record id, warnings]
    written: list[list[Any]] = field(default_factory=list)


class BatchWriter:
    """Turns batches of source rows into records for one job."""

    def __init__(
        self, job: ImportJob, guard: DuplicateGuard | None, limits: ImportSettings
    ) -> None:
        self.job_id = job.id
        self.workspace_id = job.workspace_id
        self.object_type = job.object_type
        self.options = ImportOptions.model_validate(job.options)
        self.source = f"import:{job.id}"
        self.guard = guard
        self.limits = limits
        # row key -> the record its row became, for the rows later rows may duplicate
        self._record_ids: dict[str, uuid.UUID] = {}
        self._warnings: dict[int, list[str]] = {}

    def write(self, session: Session, batch: MappedBatch) -> BatchCounts:
        """Write the records of a mapped batch; the outcomes of the rest are returned."""
        counts = BatchCounts()
        accepted: list[tuple[SourceRow, dict[str, Any]]] = []
        pending: dict[str, dict[str, Any]] = {}
        updates: list[tuple[SourceRow, str, dict[str, Any]]] = []
        skipped: list[tuple[SourceRow, str]] = []
        merged: list[tuple[SourceRow, str]] = []
        # rows whose fields are no longer parse_fields' answer: another row merged into them
        merged_into: set[str] = set()
        self._warnings = batch.warnings
        for row, errors in batch.failed:
            self._fail(counts, row, errors)
        found = batch.duplicates if batch.duplicates is not None else self._duplicates(batch)
        possible: list[tuple[str, str, float]] = []
        for row, fields in batch.valid:
            status, duplicate_of, score = found.get(_pending_key(row), (None, None, 0.0))
            if status != DUPLICATE or duplicate_of is None:
                # only a duplicate is skipped or updated: a possible one is imported too,
                # and the pair waits for a person in the review queue
                accepted.append((row, fields))
                pending[_pending_key(row)] = fields
                if status == POSSIBLE and duplicate_of is not None:
                    possible.append((_pending_key(row), duplicate_of, score))
                continue
            counts.duplicates += 1
            if self.options.on_duplicate is OnDuplicate.SKIP:
                skipped.append((row, duplicate_of))
            elif duplicate_of in pending:  # an earlier row of this batch: merge into it
                merge = {k: v for k, v in fields.items() if k != EXTERNAL_REF}
                pending[duplicate_of].update(merge)
                merged_into.add(duplicate_of)
                merged.append((row, duplicate_of))
            else:
                updates.append((row, duplicate_of, fields))

        payloads = [f for _, f in accepted]
        # addresses the mapping normalised: their email keys are themselves
        remember_emails(batch.normal_emails)
        if self.object_type == "contacts":
            # a mapped phone is normalize_phone's E.164 answer (maybe given in the mapping
            # process): its phone key is itself, found without parsing it again
            remember_e164(
                phone
                for phone in (f.get("phone") for f in payloads)
                if type(phone) is str and phone.startswith("+")
            )
        # the mapping parsed most rows' fields already; a chunk with any other is parsed
        parsed = [
            row.number not in batch.unparsed and _pending_key(row) not in merged_into
            for row, _fields in accepted
        ]
        results: list[service.ItemResult] = []
        for start in range(0, len(payloads), service.MAX_BATCH):
            end = start + service.MAX_BATCH
            results += service.upsert_records(
                session,
                self.workspace_id,
                self.object_type,
                payloads[start:end],
                self.source,
                already_parsed=all(parsed[start:end]),
                # with the duplicate check on, its verdicts decide which rows are new: a
                # row it did not call a duplicate is created even if it shares an e-mail
                match_email=self.options.on_duplicate is OnDuplicate.CREATE,
            )
        for (row, _fields), result in zip(accepted, results, strict=True):
            key = _pending_key(row)
            if result.status == "error":
                self._fail(counts, row, [result.error or "refused"])
                if self.guard is not None:
                    self.guard.drop(key)
                elif batch.duplicates is not None:  # the mapping side's index keeps it
                    log.warning("import row refused after its dedup check", row=row.number)
                continue
            if result.status == "created":
                counts.created += 1
            else:
                counts.updated += 1
            self._written(counts, row, result.status, result.id)
            if result.id is not None and self.options.on_duplicate is not OnDuplicate.CREATE:
                self._record_ids[key] = result.id
        for row, duplicate_of in merged:  # its values went into the earlier row's record
            if duplicate_of in self._record_ids:
                self._written(counts, row, "updated", self._record_ids[duplicate_of])
            else:  # that row was refused: this one fails instead of counting as a duplicate
                counts.duplicates -= 1
                self._fail(counts, row, ["duplicates a row that was not imported"])
        for row, duplicate_of, fields in updates:
            self._update(session, counts, row, duplicate_of, fields)
        self._queue(session, counts, possible)
        for row, duplicate_of in skipped:
            warnings = self._warnings.get(row.number, [])
            self._outcome(counts, row, "duplicate", warnings, self._record_of(duplicate_of))
        counts.written.sort(key=lambda item: int(item[0]))
        return counts

    def _queue(
        self, session: Session, counts: BatchCounts, pairs: list[tuple[str, str, float]]
    ) -> None:
        """Possible duplicates imported: their pairs go to the review queue."""
        known = []
        for key, matched, score in pairs:
            record_id, other = self._record_ids.get(key), self._record_of(matched)
            if record_id is not None and other is not None:
                known.append((record_id, other, score))
        counts.possible += len(known)
        if known and self.object_type == reviews.RECORD_TYPE:
            reviews.queue(session, self.workspace_id, known, self.source)

    def _written(
        self, counts: BatchCounts, row: SourceRow, status: str, record_id: uuid.UUID | None
    ) -> None:
        # a dry run's records are rolled back: it names none
        ref = None if record_id is None or self.options.dry_run else str(record_id)
        counts.written.append([row.number, row.line, status, ref, self._warnings.get(row.number)])

    def _duplicates(self, batch: MappedBatch) -> dict[str, Matched]:
        if self.guard is None or self.options.on_duplicate is OnDuplicate.CREATE:
            return {}
        return self.guard.check_batch(batch.keyed(), batch.dedup)

    def _record_of(self, key: str) -> uuid.UUID | None:
        """The record a duplicate points at: a row's record, an existing record's id, or
        None for a row that was not imported."""
        if key in self._record_ids:
            return self._record_ids[key]
        try:
            return uuid.UUID(key)
        except ValueError:
            return None

    def _update(
        self,
        session: Session,
        counts: BatchCounts,
        row: SourceRow,
        duplicate_of: str,
        fields: dict[str, Any],
    ) -> None:
        record_id = self._record_of(duplicate_of)
        if record_id is None:
            self._fail(counts, row, ["duplicates a row that was not imported"])
            return
        # the matched record keeps its own external_ref
        patch = {k: v for k, v in fields.items() if k != EXTERNAL_REF}
        try:
            # update_record refuses before it changes anything, so no savepoint is needed
            service.update_record(
                session, self.workspace_id, self.object_type, record_id, patch, self.source
            )
        except RecordError as exc:
            self._fail(counts, row, [exc.message])
            return
        counts.updated += 1
        self._written(counts, row, "updated", record_id)

    def _fail(self, counts: BatchCounts, row: SourceRow, errors: list[str]) -> None:
        counts.failed += 1
        self._outcome(counts, row, "failed", errors, None)

    def _outcome(
        self,
        counts: BatchCounts,
        row: SourceRow,
        outcome: str,
        errors: list[str],
        duplicate_of: uuid.UUID | None,
    ) -> None:
        counts.outcomes.append(
            {
                "id": new_id(),
                "job_id": self.job_id,
                "row_number": row.number,
                "line": row.line,
                "outcome": outcome,
                "values": truncate_cells(row.values, self.limits),
                "errors": errors,
                "duplicate_of": duplicate_of,
            }
        )
