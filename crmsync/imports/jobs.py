"""Import jobs: create from an upload, start, cancel, report progress and errors, retry.

Functions take the caller's session and never commit. The work itself happens in
``crmsync.imports.runner.run_import``, outside any request.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crmsync.imports.errors import FileTooLarge, JobNotFound, JobStateError
from crmsync.imports.options import ImportOptions
from crmsync.imports.readers import open_table
from crmsync.imports.report import csv_lines
from crmsync.imports.rowmap import RowMapper, with_unmapped
from crmsync.imports.settings import ImportSettings
from crmsync.imports.statusmaps import resolve_value_maps
from crmsync.imports.suggested import suggested_columns
from crmsync.imports.table import EXTRA, TableReader
from crmsync.store.base import new_id
from crmsync.store.models.imports import ImportBatch, ImportJob, ImportRow, ImportStatus

COPY_CHUNK: Final = 1024 * 1024
ERROR_COLUMNS: Final = ("import_line", "import_errors")
STARTABLE: Final = frozenset({ImportStatus.PENDING, ImportStatus.CANCELLED, ImportStatus.FAILED})
CANCELLABLE: Final = frozenset({ImportStatus.PENDING, ImportStatus.QUEUED})
ACTIVE: Final = frozenset({ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.CANCELLING})


def store_upload(limits: ImportSettings, job_id: uuid.UUID, filename: str, data: IO[bytes]) -> Path:
    """Copy an upload under the data directory in chunks, refusing it past the size limit."""
    suffix = re.sub(r"[^a-z0-9.]", "", Path(filename).suffix.lower())[:10]
    folder = limits.uploads_dir / str(job_id)
    # Uploads hold people's personal data: readable by the service's user only.
    limits.uploads_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"upload{suffix}"
    size = 0
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        while chunk := data.read(COPY_CHUNK):
            size += len(chunk)
            if size > limits.max_upload_bytes:
                out.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise FileTooLarge(f"the file is larger than {limits.max_upload_mb:g} MB")
            out.write(chunk)
    return path


def job_path(limits: ImportSettings, job: ImportJob) -> Path:
    return limits.uploads_dir / job.stored_path


def open_job_table(limits: ImportSettings, job: ImportJob) -> TableReader:
    return open_table(
        job_path(limits, job),
        job.filename,
        limits,
        sheet=job.options.get("sheet"),
        file_format=job.file_format,
        header_row=job.options.get("header_row"),
    )


def create_job(
    session: Session,
    workspace_id: uuid.UUID,
    limits: ImportSettings,
    *,
    filename: str,
    data: IO[bytes],
    options: ImportOptions,
    columns: Mapping[str, str | None] | None = None,
    retry_of: uuid.UUID | None = None,
) -> ImportJob:
    """A pending job for an uploaded file; without ``columns`` the suggested mapping is used.

    Value maps that reuse a status map are stored resolved, and with ``keep_unmapped``
    the columns mapped to nothing are stored as their custom fields.
    """
    job_id = new_id()
    path = store_upload(limits, job_id, filename, data)
    try:
        maps = resolve_value_maps(session, workspace_id, options.value_maps)
        options = options.model_copy(update={"value_maps": maps})
        reader = open_table(
            path, filename, limits, sheet=options.sheet, header_row=options.header_row
        )
        if columns is None:
            columns = suggested_columns(reader, options.object_type, options.region)
        columns = {h: t for h, t in columns.items() if t}
        if options.keep_unmapped:
            columns = with_unmapped(columns, reader.info.headers)
        # refuses a bad mapping or value map
        RowMapper(options.object_type, columns, region=options.region, value_maps=maps)
    except Exception:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    job = ImportJob(
        id=job_id,
        workspace_id=workspace_id,
        filename=Path(filename).name[:255] or "upload",
        stored_path=f"{job_id}/{path.name}",
        file_format=reader.info.format,
        object_type=options.object_type,
        status=ImportStatus.PENDING,
        mapping=dict(columns),
        options=options.model_dump(mode="json", by_alias=True),
        headers=reader.info.headers,
        retry_of=retry_of,
        created_at=datetime.now(UTC),
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, workspace_id: uuid.UUID, job_id: uuid.UUID) -> ImportJob:
    job = session.get(ImportJob, job_id)
    if job is None or job.workspace_id != workspace_id:
        raise JobNotFound(f"no import job with id {job_id}")
    return job


def list_jobs(session: Session, workspace_id: uuid.UUID, limit: int = 50) -> list[ImportJob]:
    stmt = (
        select(ImportJob)
        .where(ImportJob.workspace_id == workspace_id)
        .order_by(ImportJob.created_at.desc(), ImportJob.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def start_job(job: ImportJob) -> ImportJob:
    """Queue a job; a cancelled or failed one resumes after its last committed batch."""
    if job.status in ACTIVE:
        return job
    if job.status not in STARTABLE:
        raise JobStateError(f"a {job.status} job cannot be started")
    job.status = ImportStatus.QUEUED
    job.error = None
    job.finished_at = None
    return job


def cancel_job(job: ImportJob) -> ImportJob:
    """Stop a job: at once if it is not running, else after its current batch."""
    if job.status in CANCELLABLE:
        job.status = ImportStatus.CANCELLED
        job.finished_at = datetime.now(UTC)
    elif job.status == ImportStatus.RUNNING:
        job.status = ImportStatus.CANCELLING
    elif job.status != ImportStatus.CANCELLING:
        raise JobStateError(f"a {job.status} job cannot be cancelled")
    return job


def delete_job(session: Session, limits: ImportSettings, job: ImportJob) -> None:
    if job.status in ACTIVE:
        raise JobStateError(f"a {job.status} job cannot be deleted; cancel it first")
    session.execute(delete(ImportRow).where(ImportRow.job_id == job.id))
    session.execute(delete(ImportBatch).where(ImportBatch.job_id == job.id))
    session.delete(job)
    shutil.rmtree(job_path(limits, job).parent, ignore_errors=True)


def progress(job: ImportJob, now: datetime | None = None) -> dict[str, Any]:
    """Counters, percentage and an ETA from the rate so far (None until it is known)."""
    now = now or datetime.now(UTC)
    total = job.total_rows
    done = job.next_row
    percentage = round(100 * done / total, 1) if total else (100.0 if total == 0 else 0.0)
    eta: float | None = None
    if job.status == ImportStatus.RUNNING and job.started_at and total and 0 < done < total:
        elapsed = (now - job.started_at).total_seconds()
        eta = round(elapsed / done * (total - done), 1)
    return {
        "id": str(job.id),
        "status": job.status,
        "total": total,
        "processed": job.processed,
        "succeeded": job.created + job.updated,
        "created": job.created,
        "updated": job.updated,
        "failed": job.failed,
        "duplicates": job.duplicates,
        "possible_duplicates": job.possible_duplicates,
        "percentage": percentage,
        "eta_seconds": eta,
        "error": job.error,
    }


def failed_rows(session: Session, job: ImportJob) -> Iterator[ImportRow]:
    stmt = (
        select(ImportRow)
        .where(ImportRow.job_id == job.id, ImportRow.outcome == "failed")
        .order_by(ImportRow.row_number)
        .execution_options(yield_per=1000)
    )
    yield from session.scalars(stmt)


def errors_csv(session: Session, job: ImportJob) -> Iterator[str]:
    """The failed rows as read, with their line and reasons: fix them and upload again."""
    headers = [str(h) for h in job.headers]
    header = [*headers, EXTRA, *ERROR_COLUMNS]

    def rows() -> Iterator[list[Any]]:
        for row in failed_rows(session, job):
            extra = row.values.get(EXTRA) or []
            cells = [row.values.get(h, "") for h in headers]
            yield [*cells, " | ".join(map(str, extra)), row.line, "; ".join(row.errors)]

    return csv_lines(header, rows())


def retry_failed(session: Session, limits: ImportSettings, job: ImportJob) -> ImportJob:
    """A new pending job over this job's failed rows, with the same mapping and options."""
    if job.status in ACTIVE:
        raise JobStateError(f"a {job.status} job is still running")
    if job.failed == 0:
        raise JobStateError("the job has no failed rows to retry")
    folder = limits.uploads_dir / f"retry-{job.id}"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "failed.csv"
    headers = [str(h) for h in job.headers]
    # the values exactly as read: this file is crmsync's input, not a spreadsheet's
    with source.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows([r.values.get(h, "") for h in headers] for r in failed_rows(session, job))
    try:
        with source.open("rb") as data:
            return create_job(
                session,
                job.workspace_id,
                limits,
                filename=f"{Path(job.filename).stem}-failed.csv",
                data=data,
                # the new file is a plain CSV whose first line is the header
                options=ImportOptions.model_validate(job.options).model_copy(
                    update={"header_row": None, "sheet": None}
                ),
                columns=job.mapping,
                retry_of=job.id,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
