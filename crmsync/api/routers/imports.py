"""``/api/v1/imports``: preview a lead file, run import jobs, follow them, fetch their errors."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import State

from crmsync.api.deps import Db, require
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.auth.keys import Principal
from crmsync.auth.permissions import Permission
from crmsync.imports import jobs
from crmsync.imports.errors import ImportProblem
from crmsync.imports.launcher import ThreadLauncher
from crmsync.imports.options import ImportOptions
from crmsync.imports.preview import preview_file
from crmsync.imports.settings import ImportSettings
from crmsync.imports.templates import template_csv
from crmsync.store.models.imports import ImportJob

router = APIRouter(prefix=f"{API_PREFIX}/imports", tags=["imports"])

CanRunImports = Annotated[Principal, Depends(require(Permission.IMPORTS_RUN))]
CanRead = Annotated[Principal, Depends(require(Permission.RECORDS_READ))]
CSV_TYPE = "text/csv; charset=utf-8"


@contextmanager
def translated() -> Iterator[None]:
    """Import errors answered in the one error shape, with their own status."""
    try:
        yield
    except ImportProblem as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None


def limits_of(state: State) -> ImportSettings:
    """Import settings: environment, with the app's upload limit; built once per app."""
    if getattr(state, "import_settings", None) is None:
        settings = state.settings
        state.import_settings = ImportSettings(
            max_upload_mb=settings.max_upload_mb, data_dir=settings.files_dir
        )
    limits: ImportSettings = state.import_settings
    return limits


def launcher_of(state: State) -> ThreadLauncher:
    if getattr(state, "import_launcher", None) is None:
        state.import_launcher = ThreadLauncher(state.sessionmaker, limits_of(state))
    launcher: ThreadLauncher = state.import_launcher
    return launcher


def _options(**values: Any) -> ImportOptions:
    try:
        return ImportOptions.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ApiError(422, "validation_error", f"{field}: {first['msg']}") from None


def _mapping(text: str | None) -> dict[str, str | None] | None:
    if not text:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ApiError(422, "validation_error", "mapping: not valid JSON") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
    ):
        raise ApiError(
            422, "validation_error", 'mapping: a JSON object {"file header": "field" or null}'
        )
    return value


def job_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "filename": job.filename,
        "format": job.file_format,
        "object_type": job.object_type,
        "status": job.status,
        "mapping": job.mapping,
        "options": job.options,
        "headers": job.headers,
        "retry_of": str(job.retry_of) if job.retry_of else None,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "progress": jobs.progress(job),
    }


Upload = Annotated[UploadFile, File(description="CSV, TSV, XLSX, JSON or JSON Lines")]
ObjectForm = Annotated[str | None, Form(description="contacts, leads, deals or companies")]
MappingForm = Annotated[
    str | None, Form(description='JSON {"file header": "field" or null}; default: suggested')
]


@router.post("/preview", summary="Preview a file: headers, rows, types, mapping, warnings")
def preview(
    request: Request,
    principal: CanRunImports,
    file: Upload,
    object_type: ObjectForm = None,
    mapping: MappingForm = None,
    sheet: Annotated[str | None, Form()] = None,
    region: Annotated[str | None, Form()] = None,
) -> JSON:
    limits = limits_of(request.app.state)
    options = _options(object_type=object_type, sheet=sheet, region=region)
    scratch = uuid.uuid4()
    with translated():
        path = jobs.store_upload(limits, scratch, file.filename or "upload", file.file)
        try:
            answer = preview_file(
                path, file.filename or "upload", limits, options, _mapping(mapping)
            )
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)
    return JSON(answer)


@router.post("", status_code=201, summary="Upload a file as a new import job")
def create(
    request: Request,
    principal: CanRunImports,
    db: Db,
    file: Upload,
    object_type: ObjectForm = None,
    mapping: MappingForm = None,
    on_duplicate: Annotated[str | None, Form(description="skip, update or create")] = None,
    cleanse: Annotated[bool | None, Form()] = None,
    validate_rows: Annotated[bool | None, Form(alias="validate")] = None,
    batch_size: Annotated[int | None, Form()] = None,
    dry_run: Annotated[bool | None, Form()] = None,
    sheet: Annotated[str | None, Form()] = None,
    region: Annotated[str | None, Form()] = None,
    start: Annotated[bool, Form(description="queue it at once")] = False,
) -> JSON:
    """The job waits (`pending`) until `/start`, unless `start` is true."""
    options = _options(
        object_type=object_type,
        on_duplicate=on_duplicate,
        cleanse=cleanse,
        validate=validate_rows,
        batch_size=batch_size,
        dry_run=dry_run,
        sheet=sheet,
        region=region,
    )
    with translated():
        job = jobs.create_job(
            db,
            principal.workspace_id,
            limits_of(request.app.state),
            filename=file.filename or "upload",
            data=file.file,
            options=options,
            columns=_mapping(mapping),
        )
        if start:
            jobs.start_job(job)
    db.commit()
    if start:
        launcher_of(request.app.state).launch(job.id)
    return JSON(job_out(job), status_code=201)


@router.get("", summary="List import jobs, newest first")
def list_(principal: CanRead, db: Db, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> JSON:
    return JSON({"items": [job_out(j) for j in jobs.list_jobs(db, principal.workspace_id, limit)]})


@router.get("/templates/{name}", summary="A CSV template for an object type (contacts.csv)")
def template(principal: CanRead, name: str) -> StreamingResponse:
    if not name.endswith(".csv"):
        raise ApiError(404, "not_found", "templates are CSV: /imports/templates/contacts.csv")
    with translated():
        body = template_csv(name.removesuffix(".csv"))
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(body, media_type=CSV_TYPE, headers=headers)


@router.get("/{job_id}", summary="Get an import job")
def get(principal: CanRead, db: Db, job_id: uuid.UUID) -> JSON:
    with translated():
        return JSON(job_out(jobs.get_job(db, principal.workspace_id, job_id)))


@router.delete("/{job_id}", status_code=204, summary="Delete a job, its file and its rows")
def delete(request: Request, principal: CanRunImports, db: Db, job_id: uuid.UUID) -> None:
    with translated():
        job = jobs.get_job(db, principal.workspace_id, job_id)
        jobs.delete_job(db, limits_of(request.app.state), job)
    db.commit()


@router.post("/{job_id}/start", summary="Queue a job (or resume a cancelled or failed one)")
def start_(request: Request, principal: CanRunImports, db: Db, job_id: uuid.UUID) -> JSON:
    with translated():
        job = jobs.start_job(jobs.get_job(db, principal.workspace_id, job_id))
    db.commit()
    launcher_of(request.app.state).launch(job.id)
    return JSON(job_out(job), status_code=202)


@router.post("/{job_id}/cancel", summary="Cancel a job after its current batch")
def cancel(principal: CanRunImports, db: Db, job_id: uuid.UUID) -> JSON:
    with translated():
        job = jobs.cancel_job(jobs.get_job(db, principal.workspace_id, job_id))
    db.commit()
    return JSON(job_out(job), status_code=202)


@router.get("/{job_id}/progress", summary="Status, counters, percentage and ETA")
def progress(principal: CanRead, db: Db, job_id: uuid.UUID) -> JSON:
    with translated():
        return JSON(jobs.progress(jobs.get_job(db, principal.workspace_id, job_id)))


@router.get("/{job_id}/errors", summary="The failed rows as CSV, with their reasons")
def errors(request: Request, principal: CanRead, db: Db, job_id: uuid.UUID) -> StreamingResponse:
    with translated():
        job = jobs.get_job(db, principal.workspace_id, job_id)
    sessions = request.app.state.sessionmaker

    def body() -> Iterator[str]:
        # the request's session is closed once streaming starts; the report has its own
        with sessions() as session:
            yield from jobs.errors_csv(session, job)

    name = f"{job.filename.rsplit('.', 1)[0]}-errors.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(body(), media_type=CSV_TYPE, headers=headers)


@router.post("/{job_id}/retry-failed", status_code=201, summary="A new job over the failed rows")
def retry_failed(
    request: Request,
    principal: CanRunImports,
    db: Db,
    job_id: uuid.UUID,
    start: Annotated[bool, Query(description="queue it at once")] = False,
) -> JSON:
    with translated():
        job = jobs.get_job(db, principal.workspace_id, job_id)
        retry = jobs.retry_failed(db, limits_of(request.app.state), job)
        if start:
            jobs.start_job(retry)
    db.commit()
    if start:
        launcher_of(request.app.state).launch(retry.id)
    return JSON(job_out(retry), status_code=201)
