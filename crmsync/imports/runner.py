"""run_import: process a job batch by batch, outside any request, resumable at any point.

Each batch commits its records, its failed and duplicate rows, the job's counters and
the checkpoint ``next_row`` in one transaction. A run that dies (killed worker, lost
host) leaves the job ``running`` with the checkpoint of its last committed batch; the
next run skips that many source rows and carries on, so no row is imported twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Final

import structlog
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crmsync.imports.batch import BatchCounts, BatchWriter
from crmsync.imports.duplicates import DEDUP_TYPES, DuplicateGuard
from crmsync.imports.errors import ImportProblem
from crmsync.imports.jobs import open_job_table
from crmsync.imports.options import ImportOptions, OnDuplicate
from crmsync.imports.rowmap import RowMapper
from crmsync.imports.settings import ImportSettings
from crmsync.imports.table import SourceRow
from crmsync.quality.dedup import DedupSettings
from crmsync.store.models import Workspace
from crmsync.store.models.imports import ImportJob, ImportRow

log = structlog.get_logger("crmsync.imports")

RUNNABLE: Final = ("queued", "running")
# A running job whose heartbeat is older than this is taken to have lost its worker.
STALE_AFTER: Final = timedelta(minutes=2)

OnBatch = Callable[[ImportJob], None]


def _batches(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    while batch := list(islice(rows, size)):
        yield batch


def _claim(session: Session, job_id: uuid.UUID, takeover: bool) -> ImportJob | None:
    """Mark the job running if it may run now; None when it may not."""
    now = datetime.now(UTC)
    job = session.get(ImportJob, job_id, with_for_update=True)
    if job is None or job.status not in RUNNABLE:
        return None
    alive = job.heartbeat_at is not None and now - job.heartbeat_at < STALE_AFTER
    if job.status == "running" and alive and not takeover:
        return None
    job.status = "running"
    job.started_at = job.started_at or now
    job.heartbeat_at = now
    session.commit()
    return job


def _dedup_settings(session: Session, job: ImportJob, region: str) -> DedupSettings:
    workspace = session.get(Workspace, job.workspace_id)
    configured = dict((workspace.settings if workspace else {}).get("dedup", {}))
    configured.setdefault("region", region)
    return DedupSettings.model_validate(configured)


def _finish(session: Session, job_id: uuid.UUID, status: str, error: str | None = None) -> str:
    session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(status=status, error=error, finished_at=datetime.now(UTC))
    )
    session.commit()
    return status


def run_import(
    session_factory: sessionmaker[Session],
    job_id: uuid.UUID,
    should_stop: Callable[[], bool] = lambda: False,
    *,
    limits: ImportSettings | None = None,
    on_batch: OnBatch | None = None,
    takeover: bool = True,
) -> str:
    """Run (or resume) a queued or running job; returns the status it is left in.

    ``should_stop`` is asked between batches: True leaves the job ``running`` at its
    checkpoint for the next run (a worker shutting down). A cancel request stops it as
    ``cancelled``. ``takeover=False`` leaves alone a running job that still has a live
    heartbeat (another worker has it).
    """
    limits = limits or ImportSettings()
    with session_factory() as session:
        job = _claim(session, job_id, takeover)
        if job is None:
            current = session.get(ImportJob, job_id)
            return current.status if current else "missing"
        options = ImportOptions.model_validate(job.options)
        try:
            reader = open_job_table(limits, job)
            if job.total_rows is None:
                job.total_rows = sum(1 for _ in reader.rows())
                session.commit()
            mapper = RowMapper(
                job.object_type,
                job.mapping,
                region=options.region,
                cleanse=options.cleanse,
                validate=options.validate_rows,
            )
            guard = None
            if job.object_type in DEDUP_TYPES and options.on_duplicate is not OnDuplicate.CREATE:
                settings = _dedup_settings(session, job, options.region)
                guard = DuplicateGuard.load(session, job.workspace_id, job.object_type, settings)
        except ImportProblem as exc:
            return _finish(session, job_id, "failed", exc.message)
        writer = BatchWriter(job, mapper, guard, limits)
        start = job.next_row
    log.info("import running", job=str(job_id), from_row=start, total=job.total_rows)
    try:
        rows = islice(reader.rows(), start, None)
        for batch in _batches(rows, options.batch_size):
            if should_stop():
                return "running"
            with session_factory() as session:
                job = session.get(ImportJob, job_id)
                if job is None:
                    return "missing"
                if job.status == "cancelling":
                    return _finish(session, job_id, "cancelled")
                if job.status != "running":  # finished by another run
                    return job.status
                if job.next_row != batch[0].number:
                    log.info("import taken over by another run", job=str(job_id))
                    return job.status
                try:
                    counts = _write(session_factory, session, writer, batch, options.dry_run)
                    moved = _checkpoint(session, job_id, batch, counts)
                except IntegrityError:
                    moved = False  # a racing run committed these rows' records first
                if not moved:
                    session.rollback()
                    log.info("import taken over by another run", job=str(job_id))
                    return "running"
                session.commit()
                session.refresh(job)
            if on_batch is not None:
                on_batch(job)
    except ImportProblem as exc:
        with session_factory() as session:
            return _finish(session, job_id, "failed", exc.message)
    with session_factory() as session:
        return _finish(session, job_id, "completed")


def _write(
    session_factory: sessionmaker[Session],
    session: Session,
    writer: BatchWriter,
    batch: list[SourceRow],
    dry_run: bool,
) -> BatchCounts:
    if not dry_run:
        return writer.write(session, batch)
    with session_factory() as scratch:  # a dry run writes, counts and rolls back
        counts = writer.write(scratch, batch)
        scratch.rollback()
    return counts


def _checkpoint(
    session: Session, job_id: uuid.UUID, batch: list[SourceRow], counts: BatchCounts
) -> bool:
    """Move the checkpoint past ``batch``, unless another run of the job already did.

    The compare-and-set runs after the batch's records in the same transaction, so of
    two runs that raced over one batch exactly one commits it.
    """
    moved = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.next_row == batch[0].number)
        .values(
            next_row=batch[-1].number + 1,
            processed=ImportJob.processed + len(batch),
            created=ImportJob.created + counts.created,
            updated=ImportJob.updated + counts.updated,
            failed=ImportJob.failed + counts.failed,
            duplicates=ImportJob.duplicates + counts.duplicates,
            heartbeat_at=datetime.now(UTC),
        )
    )
    if getattr(moved, "rowcount", 0) != 1:
        return False
    if counts.outcomes:
        session.execute(insert(ImportRow), counts.outcomes)
    return True
