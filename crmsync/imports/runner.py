"""run_import: process a job batch by batch, outside any request, resumable at any point.

Each batch commits its records, its failed and duplicate rows, the job's counters and
the checkpoint ``next_row`` in one transaction. A run that dies (killed worker, lost
host) leaves the job ``running`` with the checkpoint of its last committed batch; the
next run skips that many source rows and carries on, so no row is imported twice.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

import structlog
from sqlalchemy import Table, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crmsync.dedup import settings as dedup_settings
from crmsync.dedup.guard import DEDUP_TYPES, DuplicateGuard, source_for_second_process
from crmsync.imports.batch import BatchCounts, BatchWriter
from crmsync.imports.errors import ImportProblem
from crmsync.imports.jobs import job_path
from crmsync.imports.mapped import BatchSource, MappedBatch, MappedBatches, gc_paused
from crmsync.imports.options import ImportOptions, OnDuplicate
from crmsync.imports.settings import ImportSettings
from crmsync.imports.table import SourceRow, count_rows
from crmsync.outbound.emit import emit, import_failed
from crmsync.quality.validation import Severity
from crmsync.quality.validation_severity import workspace_overrides
from crmsync.records import bulk
from crmsync.store.base import new_id
from crmsync.store.models import Workspace
from crmsync.store.models.imports import ImportBatch, ImportJob, ImportRow, ImportStatus

log = structlog.get_logger("crmsync.imports")

RUNNABLE: Final = (ImportStatus.QUEUED, ImportStatus.RUNNING)
_ENDING: Final = (ImportStatus.RUNNING, ImportStatus.CANCELLING)  # a run may end these
# A running job whose heartbeat is older than this is taken to have lost its worker.
STALE_AFTER: Final = timedelta(minutes=2)

OnBatch = Callable[[ImportJob], None]


def _claim(session: Session, job_id: uuid.UUID, takeover: bool) -> ImportJob | None:
    """Mark the job running if it may run now; None when it may not."""
    now = datetime.now(UTC)
    job = session.get(ImportJob, job_id, with_for_update=True)
    if job is None or job.status not in RUNNABLE:
        return None
    alive = job.heartbeat_at is not None and now - job.heartbeat_at < STALE_AFTER
    if job.status == ImportStatus.RUNNING and alive and not takeover:
        return None
    job.status = ImportStatus.RUNNING
    job.started_at = job.started_at or now
    job.heartbeat_at = now
    session.commit()
    return job


def _severity(session: Session, job: ImportJob, options: ImportOptions) -> dict[str, Severity]:
    """The workspace's severity overrides with the import's own laid over them."""
    workspace = session.get(Workspace, job.workspace_id)
    return {**workspace_overrides(workspace.settings if workspace else {}), **options.severity}


def _finish(
    session: Session, job_id: uuid.UUID, status: ImportStatus, error: str | None = None
) -> str:
    moved = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status.in_(_ENDING))
        .values(status=status, error=error, finished_at=datetime.now(UTC))
    )
    if status == ImportStatus.FAILED and getattr(moved, "rowcount", 0) == 1:
        import_failed(session, job_id, error)  # the run that ends it tells, once
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
    limits = limits or ImportSettings.from_settings()
    with session_factory() as session:
        job = _claim(session, job_id, takeover)
        if job is None:
            current = session.get(ImportJob, job_id)
            return current.status if current else "missing"
        options = ImportOptions.model_validate(job.options)
        dedups = job.object_type in DEDUP_TYPES and options.on_duplicate is not OnDuplicate.CREATE
        try:
            settings = (
                dedup_settings.load(session, job.workspace_id, options.region) if dedups else None
            )
            source = _source(limits, job, options, settings.region if settings else None)
            source = dataclasses.replace(source, severity=_severity(session, job, options))
            source.reader()  # the file opens and its header reads
            source.mapper()  # the mapping is one that can be applied
        except ImportProblem as exc:
            return _finish(session, job_id, ImportStatus.FAILED, exc.message)
        start, total, workspace_id = job.next_row, job.total_rows, job.workspace_id
        writer = BatchWriter(job, None, limits)
    # A large file is mapped in a second process, which also checks duplicates when it
    # can. It starts at once, so it works on the first batches while this one counts rows.
    big = source.path.stat().st_size >= limits.mapping_process_from_mb * 1024 * 1024
    if big and settings is not None:
        dedup_index = source_for_second_process(
            session_factory, workspace_id, source.object_type, source.columns.values(), settings
        )
        source = dataclasses.replace(source, dedup_index=dedup_index)
    with MappedBatches(source, start, in_second_process=big) as batches:
        try:
            if settings is not None and source.dedup_index is None:
                with session_factory() as session:
                    writer.guard = DuplicateGuard.load(
                        session, workspace_id, source.object_type, settings
                    )
            if total is None:
                total = count_rows(source.reader())
                with session_factory() as session:
                    session.execute(
                        update(ImportJob).where(ImportJob.id == job_id).values(total_rows=total)
                    )
                    session.commit()
            log.info("import running", job=str(job_id), from_row=start, total=total)
            for batch in batches:
                if should_stop():
                    return ImportStatus.RUNNING
                status = _commit_batch(session_factory, job_id, writer, batch, options.dry_run)
                if status is not None:
                    return status
                if on_batch is not None:
                    with session_factory() as session:
                        done = session.get(ImportJob, job_id)
                    if done is not None:
                        on_batch(done)
        except ImportProblem as exc:
            with session_factory() as session:
                return _finish(session, job_id, ImportStatus.FAILED, exc.message)
    with session_factory() as session:
        return _complete(session, job_id, options.dry_run)


_IMPORT_ROWS: Final[Table] = ImportRow.__table__  # type: ignore[assignment]
IMPORT_COMPLETED: Final = "import.completed"
_COUNTS: Final = ("total_rows", "processed", "created", "updated", "failed", "duplicates")


def _complete(session: Session, job_id: uuid.UUID, dry_run: bool) -> str:
    """Mark the job completed and, in that transaction, emit ``import.completed`` with its
    counts. Only the run whose update moves the job emits, so two runs racing to the end
    of one job send one event; a dry run imported nothing and sends none."""
    now = datetime.now(UTC)
    moved = session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == job_id,
            ImportJob.status.in_((ImportStatus.RUNNING, ImportStatus.CANCELLING)),
        )
        .values(status=ImportStatus.COMPLETED, error=None, finished_at=now)
    )
    if getattr(moved, "rowcount", 0) == 1 and not dry_run:
        job = session.get_one(ImportJob, job_id, populate_existing=True)
        payload = {
            "import_id": str(job.id),
            "filename": job.filename,
            "object_type": job.object_type,
            "status": ImportStatus.COMPLETED,
            **{name: getattr(job, name) for name in _COUNTS},
            "possible_duplicates": job.possible_duplicates,
            "retry_of": str(job.retry_of) if job.retry_of else None,
            "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": now.isoformat(),
        }
        emit(session, job.workspace_id, IMPORT_COMPLETED, f"import:{job.id}", payload)
    session.commit()
    current = session.get(ImportJob, job_id)
    return current.status if current is not None else "missing"


def _source(
    limits: ImportSettings, job: ImportJob, options: ImportOptions, dedup_region: str | None
) -> BatchSource:
    return BatchSource(
        path=job_path(limits, job),
        filename=job.filename,
        file_format=job.file_format,
        sheet=options.sheet,
        limits=limits.model_dump(),
        object_type=job.object_type,
        columns=dict(job.mapping),
        region=options.region,
        cleanse=options.cleanse,
        validate=options.validate_rows,
        batch_size=options.batch_size,
        dedup_region=dedup_region,
        header_row=options.header_row,
        value_maps=dict(options.value_maps),
        keep_invalid=options.keep_invalid,
    )


def _commit_batch(
    session_factory: sessionmaker[Session],
    job_id: uuid.UUID,
    writer: BatchWriter,
    batch: MappedBatch,
    dry_run: bool,
) -> str | None:
    """Write and commit one batch with the job's checkpoint; the status to stop at, if any."""
    with session_factory() as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            return "missing"
        if job.status == ImportStatus.CANCELLING:
            return _finish(session, job_id, ImportStatus.CANCELLED)
        if job.status != ImportStatus.RUNNING:  # finished by another run
            return job.status
        if job.next_row != batch.rows[0].number:
            log.info("import taken over by another run", job=str(job_id))
            return job.status
        try:
            with gc_paused():
                counts = _write(session_factory, session, writer, batch, dry_run)
                moved = _checkpoint(session, job_id, batch.rows, counts)
        except IntegrityError:
            moved = False  # a racing run committed these rows' records first
        if not moved:
            session.rollback()
            log.info("import taken over by another run", job=str(job_id))
            return ImportStatus.RUNNING
        session.commit()
    return None


def _write(
    session_factory: sessionmaker[Session],
    session: Session,
    writer: BatchWriter,
    batch: MappedBatch,
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
            possible_duplicates=ImportJob.possible_duplicates + counts.possible,
            heartbeat_at=datetime.now(UTC),
        )
    )
    if getattr(moved, "rowcount", 0) != 1:
        return False
    if counts.outcomes:
        # the records' fast path (the same values stored as through Core, converted once)
        bulk.insert_rows(session, _IMPORT_ROWS, counts.outcomes)
    if counts.written:
        session.execute(
            insert(ImportBatch),
            [
                {
                    "id": new_id(),
                    "job_id": job_id,
                    "first_row": batch[0].number,
                    "last_row": batch[-1].number,
                    "rows": counts.written,
                }
            ],
        )
    return True
