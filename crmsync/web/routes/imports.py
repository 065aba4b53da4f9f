"""Imports: upload a file, check the preview and change the suggested mapping, start,
follow the progress (htmx polls a fragment; without script the page reloads itself),
read the summary, download the failed rows and undo the import."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

import phonenumbers
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmsync.imports import jobs
from crmsync.imports.launcher import launcher_for, limits_for
from crmsync.imports.options import ImportOptions
from crmsync.imports.preview import preview_file
from crmsync.imports.rowmap import OBJECT_TYPES, with_unmapped
from crmsync.imports.undo import undo_import
from crmsync.records.errors import RecordInvalid
from crmsync.store.models import ImportJob, ImportStatus
from crmsync.web import import_wizard
from crmsync.web.deps import Db, attachment
from crmsync.web.guard import ImportRunner, Reader, WebRoute, form_text
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=f"{UI_PREFIX}/imports", include_in_schema=False)
UNMAPPED = ""
# value map rows (column, value in the file, canonical), then each column's policy
FORM_LISTS = ("vm_col", "vm_from", "vm_to", "vm_policy_col", "vm_policy")


@router.get("")
def import_list(request: Request, user: Reader, db: Db) -> Response:
    found = jobs.list_jobs(db, user.workspace_id, 50)
    return page(request, "imports.html", {"jobs": found, "object_types": OBJECT_TYPES})


@router.post("")
def upload(
    request: Request,
    user: ImportRunner,
    db: Db,
    file: Annotated[UploadFile, File()],
    object_type: Annotated[str, Form(max_length=20)] = "contacts",
    on_duplicate: Annotated[str, Form(max_length=10)] = "skip",
    cleanse: Annotated[bool, Form()] = True,
    validate_rows: Annotated[bool, Form(alias="validate")] = True,
) -> Response:
    options = ImportOptions.model_validate(
        {
            "object_type": object_type,
            "on_duplicate": on_duplicate,
            "cleanse": cleanse,
            "validate": validate_rows,
        }
    )
    job = jobs.create_job(
        db,
        user.workspace_id,
        limits_for(request.app.state),
        filename=file.filename or "upload",
        data=file.file,
        options=options,
    )
    db.commit()
    return redirect(f"{UI_PREFIX}/imports/{job.id}", "Uploaded. Check the mapping, then start.")


@router.get("/{job_id}")
def import_page(request: Request, user: Reader, db: Db, job_id: uuid.UUID) -> Response:
    job = jobs.get_job(db, user.workspace_id, job_id)
    context: dict[str, object] = {"job": job, "progress": jobs.progress(job)}
    if job.status == ImportStatus.PENDING:
        limits = limits_for(request.app.state)
        options = import_wizard.options_of(job)
        preview = preview_file(
            jobs.job_path(limits, job),
            job.filename,
            limits,
            options,
            job.mapping,
            session=db,
            workspace_id=user.workspace_id,
        )
        context["preview"] = preview
        context["targets"] = import_wizard.targets(job.object_type)
        context["suggested"] = import_wizard.suggested_targets(preview)
        context["rules"] = import_wizard.rule_choices(preview)
        context["value_columns"] = import_wizard.value_columns(job, preview)
        context["region"] = options.region
        context["keep_unmapped"] = options.keep_unmapped
    return page(request, "import.html", context)


@router.get("/{job_id}/progress")
def import_progress(request: Request, user: Reader, db: Db, job_id: uuid.UUID) -> Response:
    job = jobs.get_job(db, user.workspace_id, job_id)
    return page(request, "import_progress.html", {"job": job, "progress": jobs.progress(job)})


def _rules_of(
    form: FormData,
) -> tuple[dict[str, str], list[tuple[str, str, str]], dict[str, str]]:
    """The options step: severities changed from what the page showed; value map rows
    (column, value in the file, canonical value) and each column's unknown-value policy."""
    severity = {}
    for name in form:
        key = name.removeprefix("severity:")
        if key != name and (chosen := form_text(form, name)) != form_text(form, f"was:{key}"):
            severity[key] = chosen
    texts = [[v if isinstance(v, str) else "" for v in form.getlist(n)] for n in FORM_LISTS]
    if len({len(t) for t in texts[:3]}) > 1 or len(texts[3]) != len(texts[4]):
        raise RecordInvalid("value_maps: the form's value rows are incomplete; reload the page")
    values = list(zip(*texts[:3], strict=True))
    unknown = dict(zip(texts[3], texts[4], strict=True))
    return severity, values, unknown


def _set_region_and_kept(job: ImportJob, form: FormData) -> None:
    """The preview's fixes: the phones' region, and keeping unmapped columns as custom
    fields (each stored in the mapping, as creating a job with ``keep_unmapped`` does)."""
    if form_text(form, "import_options") != "shown":
        return
    options = import_wizard.options_of(job)
    region = form_text(form, "region", options.region).strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise RecordInvalid(f"region: {region!r} is not a country code such as US, GB or FR")
    changed = ImportOptions.model_validate(
        {
            **job.options,
            "region": region,
            "keep_unmapped": form_text(form, "keep_unmapped") == "true",
        }
    )
    job.options = changed.model_dump(mode="json", by_alias=True)
    if changed.keep_unmapped:
        job.mapping = with_unmapped(job.mapping, job.headers)
    elif options.keep_unmapped:  # unticked: the columns it kept are dropped again
        kept = with_unmapped({}, job.headers)
        job.mapping = {h: t for h, t in job.mapping.items() if kept.get(h) != t}


@router.post("/{job_id}")
async def change_or_start(
    request: Request, user: ImportRunner, db: Db, job_id: uuid.UUID
) -> Response:
    """The mapping and options form (one select per file column, the severities, the
    value maps): saves them, then previews again or starts the import."""
    form = await request.form()
    start = form_text(form, "action") == "start"

    def apply() -> None:  # the database work off the event loop
        job = jobs.get_job(db, user.workspace_id, job_id)
        columns = {h: form_text(form, f"map:{h}", UNMAPPED) or None for h in job.headers}
        import_wizard.remap(job, columns)
        import_wizard.set_rules(job, *_rules_of(form))
        _set_region_and_kept(job, form)
        if start:
            jobs.start_job(job)
        db.commit()

    await run_in_threadpool(apply)
    if not start:
        return redirect(f"{UI_PREFIX}/imports/{job_id}", "Mapping saved; the preview shows it.")
    launcher_for(request.app.state).launch(job_id)
    return redirect(f"{UI_PREFIX}/imports/{job_id}", "Import started.")


@router.post("/{job_id}/retry")
def retry_failed(request: Request, user: ImportRunner, db: Db, job_id: uuid.UUID) -> Response:
    """A new pending import of this one's failed rows, to map and start again."""
    job = jobs.get_job(db, user.workspace_id, job_id)
    retry = jobs.retry_failed(db, limits_for(request.app.state), job)
    db.commit()
    return redirect(
        f"{UI_PREFIX}/imports/{retry.id}", f"{job.failed} failed rows are ready to import again."
    )


@router.post("/{job_id}/undo")
def undo(request: Request, user: ImportRunner, db: Db, job_id: uuid.UUID) -> Response:
    """Delete what the import created and restore what it changed (not what changed since)."""
    job = jobs.get_job(db, user.workspace_id, job_id)
    result = undo_import(db, job)
    db.commit()
    kept = f"; {len(result.not_undone)} changed since and kept" if result.not_undone else ""
    return redirect(
        f"{UI_PREFIX}/imports/{job_id}",
        f"Import undone: {result.deleted} records deleted, "
        f"{result.restored_records} restored{kept}.",
    )


@router.get("/{job_id}/errors.csv")
def error_report(request: Request, user: Reader, db: Db, job_id: uuid.UUID) -> Response:
    job = jobs.get_job(db, user.workspace_id, job_id)
    sessions = request.app.state.sessionmaker

    def body() -> Iterator[str]:
        with sessions() as session:  # the request's session closes when streaming starts
            yield from jobs.errors_csv(session, job)

    name = f"{job.filename.rsplit('.', 1)[0]}-errors.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment(name)},
    )
