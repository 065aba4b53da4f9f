"""``/api/v1/imports``: preview a lead file, run import jobs, follow them, read every row's
outcome, undo them; and the workspace's import rules (``/settings``)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import State

from crmsync import jsonlimits
from crmsync.api.deps import Db, require
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON, attachment
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.auth.keys import Principal
from crmsync.auth.permissions import Permission
from crmsync.imports import jobs, outcomes, workspace_rules
from crmsync.imports.launcher import ThreadLauncher, launcher_for, limits_for
from crmsync.imports.options import ImportOptions
from crmsync.imports.preview import preview_file
from crmsync.imports.settings import ImportSettings
from crmsync.imports.templates import template_csv
from crmsync.imports.undo import undo_import
from crmsync.store.models.imports import ImportJob

router = APIRouter(route_class=GuardedRoute, prefix=f"{API_PREFIX}/imports", tags=["imports"])

CanRunImports = Annotated[Principal, Depends(require(Permission.IMPORTS_RUN))]
CanRead = Annotated[Principal, Depends(require(Permission.RECORDS_READ))]
CanAdministrate = Annotated[Principal, Depends(require(Permission.WORKSPACE_ADMIN))]
CSV_TYPE = "text/csv; charset=utf-8"


def limits_of(state: State) -> ImportSettings:
    """Import settings: environment, with the app's upload limit; built once per app."""
    return limits_for(state)


def launcher_of(state: State) -> ThreadLauncher:
    return launcher_for(state)


def _options(**values: Any) -> ImportOptions:
    try:
        return ImportOptions.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ApiError(422, "validation_error", f"{field}: {first['msg']}") from None


def _json_object(name: str, text: str | None) -> dict[str, Any] | None:
    """A form field holding a JSON object (``value_maps``, ``severity``), parsed."""
    if not text:
        return None
    try:
        value = jsonlimits.loads(text)
    except jsonlimits.JsonRefused as exc:
        raise ApiError(422, "validation_error", f"{name}: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(422, "validation_error", f"{name}: a JSON object")
    return value


def _mapping(text: str | None) -> dict[str, str | None] | None:
    if not text:
        return None
    try:
        value = jsonlimits.loads(text)
    except jsonlimits.JsonRefused as exc:
        raise ApiError(422, "validation_error", f"mapping: {exc}") from None
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
        "undone_at": job.undone_at.isoformat() if job.undone_at else None,
        "progress": jobs.progress(job),
    }


Upload = Annotated[UploadFile, File(description="CSV, TSV, XLSX, JSON or JSON Lines")]
ObjectForm = Annotated[str | None, Form(description="contacts, leads, deals or companies")]
MappingForm = Annotated[
    str | None, Form(description='JSON {"file header": "field" or null}; default: suggested')
]
ValueMapsForm = Annotated[
    str | None,
    Form(
        description='JSON {"file header": {"values": {"source": "canonical"}, '
        '"status_map": "salesforce/lead_status", "unknown": "error|keep|default", "default": ..}}'
    ),
]
SeverityForm = Annotated[
    str | None, Form(description='JSON {"phone": "error", "contact_type:enum": "warning"}')
]
HeaderRowForm = Annotated[
    int | None, Form(description="line of the header row; detected below title rows if absent")
]
KeepUnmappedForm = Annotated[
    bool | None, Form(description="keep columns mapped to nothing as custom fields")
]
KeepInvalidForm = Annotated[
    bool | None, Form(description="keep a value with a warning in custom_fields.<field>")
]


@router.post("/preview", summary="Preview a file: the import's pipeline on a sample, per column")
def preview(
    request: Request,
    principal: CanRunImports,
    db: Db,
    file: Upload,
    object_type: ObjectForm = None,
    mapping: MappingForm = None,
    on_duplicate: Annotated[str | None, Form(description="skip, update or create")] = None,
    cleanse: Annotated[bool | None, Form()] = None,
    validate_rows: Annotated[bool | None, Form(alias="validate")] = None,
    sheet: Annotated[str | None, Form()] = None,
    region: Annotated[str | None, Form()] = None,
    header_row: HeaderRowForm = None,
    keep_unmapped: KeepUnmappedForm = None,
    keep_invalid: KeepInvalidForm = None,
    value_maps: ValueMapsForm = None,
    severity: SeverityForm = None,
) -> JSON:
    """Takes the options an import takes, and answers what importing with them would do on
    a sample of up to 200 rows: per column the target, values before and after, problems
    with counts and examples, values that fit no canonical value (with suggestions); the
    duplicates; and value maps to send back with the import (`suggested_value_maps`)."""
    limits = limits_of(request.app.state)
    options = _options(
        object_type=object_type,
        on_duplicate=on_duplicate,
        cleanse=cleanse,
        validate=validate_rows,
        sheet=sheet,
        region=region,
        header_row=header_row,
        keep_unmapped=keep_unmapped,
        keep_invalid=keep_invalid,
        value_maps=_json_object("value_maps", value_maps),
        severity=_json_object("severity", severity),
    )
    scratch = uuid.uuid4()
    path = jobs.store_upload(limits, scratch, file.filename or "upload", file.file)
    try:
        answer = preview_file(
            path,
            file.filename or "upload",
            limits,
            options,
            _mapping(mapping),
            session=db,
            workspace_id=principal.workspace_id,
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
    header_row: HeaderRowForm = None,
    keep_unmapped: KeepUnmappedForm = None,
    keep_invalid: KeepInvalidForm = None,
    value_maps: ValueMapsForm = None,
    severity: SeverityForm = None,
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
        header_row=header_row,
        keep_unmapped=keep_unmapped,
        keep_invalid=keep_invalid,
        value_maps=_json_object("value_maps", value_maps),
        severity=_json_object("severity", severity),
    )
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


@router.get(
    "/templates/{name}",
    summary="A CSV template for an object type (contacts.csv)",
    response_class=StreamingResponse,
    responses={200: {"content": {CSV_TYPE: {}}, "description": "The CSV template"}},
)
def template(principal: CanRead, name: str) -> StreamingResponse:
    if not name.endswith(".csv"):
        raise ApiError(404, "not_found", "templates are CSV: /imports/templates/contacts.csv")
    body = template_csv(name.removesuffix(".csv"))
    headers = {"Content-Disposition": attachment(name)}
    return StreamingResponse(body, media_type=CSV_TYPE, headers=headers)


@router.get("/settings", summary="The workspace's import rules: severity per validation rule")
def get_settings(principal: CanRead, db: Db) -> JSON:
    return JSON(workspace_rules.load(db, principal.workspace_id))


@router.put("/settings", summary="Set the severity of validation rules for the workspace")
def put_settings(principal: CanAdministrate, db: Db, body: dict[str, Any]) -> JSON:
    """Body `{"severity": {"phone": "error", "contact_type:enum": "warning"}}` replaces the
    workspace's table; each import's own `severity` is laid over it."""
    answer = workspace_rules.save(db, principal.workspace_id, body.get("severity") or {})
    db.commit()
    return JSON(answer)


@router.get("/{job_id}", summary="Get an import job")
def get(principal: CanRead, db: Db, job_id: uuid.UUID) -> JSON:
    return JSON(job_out(jobs.get_job(db, principal.workspace_id, job_id)))


@router.delete("/{job_id}", status_code=204, summary="Delete a job, its file and its rows")
def delete(request: Request, principal: CanRunImports, db: Db, job_id: uuid.UUID) -> None:
    job = jobs.get_job(db, principal.workspace_id, job_id)
    jobs.delete_job(db, limits_of(request.app.state), job)
    db.commit()


@router.post(
    "/{job_id}/start", status_code=202, summary="Queue a job (or resume a cancelled or failed one)"
)
def start_(request: Request, principal: CanRunImports, db: Db, job_id: uuid.UUID) -> JSON:
    job = jobs.start_job(jobs.get_job(db, principal.workspace_id, job_id))
    db.commit()
    launcher_of(request.app.state).launch(job.id)
    return JSON(job_out(job), status_code=202)


@router.post("/{job_id}/cancel", status_code=202, summary="Cancel a job after its current batch")
def cancel(principal: CanRunImports, db: Db, job_id: uuid.UUID) -> JSON:
    job = jobs.cancel_job(jobs.get_job(db, principal.workspace_id, job_id))
    db.commit()
    return JSON(job_out(job), status_code=202)


@router.get("/{job_id}/progress", summary="Status, counters, percentage and ETA")
def progress(principal: CanRead, db: Db, job_id: uuid.UUID) -> JSON:
    return JSON(jobs.progress(jobs.get_job(db, principal.workspace_id, job_id)))


@router.get(
    "/{job_id}/errors",
    summary="The failed rows as CSV, with their reasons",
    response_class=StreamingResponse,
    responses={200: {"content": {CSV_TYPE: {}}, "description": "The failed rows"}},
)
def errors(request: Request, principal: CanRead, db: Db, job_id: uuid.UUID) -> StreamingResponse:
    job = jobs.get_job(db, principal.workspace_id, job_id)
    sessions = request.app.state.sessionmaker

    def body() -> Iterator[str]:
        # the request's session is closed once streaming starts; the report has its own
        with sessions() as session:
            yield from jobs.errors_csv(session, job)

    name = f"{job.filename.rsplit('.', 1)[0]}-errors.csv"
    headers = {"Content-Disposition": attachment(name)}
    return StreamingResponse(body(), media_type=CSV_TYPE, headers=headers)


@router.get("/{job_id}/rows", summary="Every row's outcome, by outcome")
def rows(
    principal: CanRead,
    db: Db,
    job_id: uuid.UUID,
    outcome: Annotated[outcomes.Outcome | None, Query()] = None,
    after: Annotated[int, Query(ge=-1, description="row number of the previous page's last")] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSON:
    """Rows in file order: `row` (from 0), `line`, `outcome`, `record_id` (the record created
    or updated, or the one a duplicate matched) and `reasons` (errors, or warnings of a row
    that imported). `next_after` pages on."""
    job = jobs.get_job(db, principal.workspace_id, job_id)
    items, next_after = outcomes.page(db, job, outcome, after, limit)
    return JSON({"items": items, "next_after": next_after})


@router.get(
    "/{job_id}/outcomes.csv",
    summary="The file's rows, each with its outcome",
    response_class=StreamingResponse,
    responses={200: {"content": {CSV_TYPE: {}}, "description": "Every row with its outcome"}},
)
def outcome_report(
    request: Request, principal: CanRead, db: Db, job_id: uuid.UUID
) -> StreamingResponse:
    """The original rows plus `import_line`, `import_outcome`, `import_record_id` and
    `import_reasons`."""
    limits = limits_of(request.app.state)
    job = jobs.get_job(db, principal.workspace_id, job_id)
    jobs.open_job_table(limits, job)  # an unreadable file answers before streaming
    sessions = request.app.state.sessionmaker

    def body() -> Iterator[str]:
        with sessions() as session:
            yield from outcomes.outcome_csv(session, limits, job)

    name = f"{job.filename.rsplit('.', 1)[0]}-outcomes.csv"
    headers = {"Content-Disposition": attachment(name)}
    return StreamingResponse(body(), media_type=CSV_TYPE, headers=headers)


@router.post("/{job_id}/undo", summary="Undo an import: delete what it created, restore fields")
def undo(principal: CanRunImports, db: Db, job_id: uuid.UUID) -> JSON:
    """Deletes the records the import created and restores the fields it changed, unless
    they changed since; `not_undone` lists those, with the reason. Sync jobs follow."""
    job = jobs.get_job(db, principal.workspace_id, job_id)
    result = undo_import(db, job)
    db.commit()
    return JSON(result.as_dict())


@router.post("/{job_id}/retry-failed", status_code=201, summary="A new job over the failed rows")
def retry_failed(
    request: Request,
    principal: CanRunImports,
    db: Db,
    job_id: uuid.UUID,
    start: Annotated[bool, Query(description="queue it at once")] = False,
) -> JSON:
    job = jobs.get_job(db, principal.workspace_id, job_id)
    retry = jobs.retry_failed(db, limits_of(request.app.state), job)
    if start:
        jobs.start_job(retry)
    db.commit()
    if start:
        launcher_of(request.app.state).launch(retry.id)
    return JSON(job_out(retry), status_code=201)
