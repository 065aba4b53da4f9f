"""Sync for operators: health per integration, the dead-letter queue with replay, and
conflicts resolved side by side."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from crmsync import jsonlimits
from crmsync.alerts.service import AlertNotFound, acknowledge
from crmsync.store.models import Conflict, ConflictStatus, SyncJobStatus
from crmsync.sync import dlq
from crmsync.sync.conflicts import Resolution, list_conflicts, resolve
from crmsync.web import queries
from crmsync.web.deps import Db
from crmsync.web.guard import IntegrationReader, SyncOperator, WebProblem, WebRoute
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=f"{UI_PREFIX}/sync", include_in_schema=False)
PAGE = 100


@router.get("")
def health(request: Request, user: IntegrationReader, db: Db) -> Response:
    now = datetime.now(UTC)
    rows = queries.sync_health(db, user.workspace_id, now)
    alerts = queries.open_alerts(db, user.workspace_id)
    volume = queries.workspace_volume(db, user.workspace_id, now=now)
    return page(
        request,
        "sync_health.html",
        {"rows": rows, "alerts": alerts, "volume": volume, "now": now},
    )


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(user: SyncOperator, db: Db, alert_id: uuid.UUID) -> Response:
    try:
        alert = acknowledge(
            db, user.workspace_id, alert_id, f"user:{user.email}", datetime.now(UTC)
        )
    except AlertNotFound:
        raise WebProblem(404, f"No alert {alert_id}.") from None
    db.commit()
    return redirect(f"{UI_PREFIX}/sync", f"Acknowledged: {alert.message[:120]}")


@router.get("/dead-letters")
def dead_letters(request: Request, user: IntegrationReader, db: Db) -> Response:
    jobs = dlq.list_jobs(db, user.workspace_id, status=SyncJobStatus.DEAD, limit=PAGE)
    return page(request, "dead_letters.html", {"jobs": jobs, "limit": PAGE})


@router.post("/dead-letters/{job_id}/replay")
def replay(user: SyncOperator, db: Db, job_id: int) -> Response:
    try:
        job = dlq.replay(db, user.workspace_id, job_id)
    except ValueError as exc:
        raise WebProblem(409, str(exc)) from None
    if job is None:
        raise WebProblem(404, f"No sync job {job_id}.")
    db.commit()
    return redirect(f"{UI_PREFIX}/sync/dead-letters", f"Job {job_id} is queued again.")


@router.post("/dead-letters/replay-all")
def replay_all(user: SyncOperator, db: Db) -> Response:
    count = dlq.replay_all(db, user.workspace_id)
    db.commit()
    return redirect(f"{UI_PREFIX}/sync/dead-letters", f"{count} jobs are queued again.")


@router.get("/conflicts")
def conflicts(request: Request, user: IntegrationReader, db: Db) -> Response:
    found = list_conflicts(db, user.workspace_id, status=ConflictStatus.OPEN, limit=PAGE)
    return page(request, "conflicts.html", {"conflicts": found, "limit": PAGE})


def _custom_value(text: str, conflict: Conflict) -> Any:
    """The typed value: JSON when it parses (numbers, true/false), else the text itself."""
    if not text.strip():
        raise WebProblem(422, "value: type the value to keep, or pick one side.")
    try:
        return jsonlimits.loads(text)
    except jsonlimits.JsonRefused:
        return text


@router.post("/conflicts/{conflict_id}/resolve")
def resolve_conflict(
    user: SyncOperator,
    db: Db,
    conflict_id: uuid.UUID,
    resolution: Annotated[Resolution, Form()],
    value: Annotated[str, Form(max_length=10000)] = "",
) -> Response:
    conflict = db.get(Conflict, conflict_id)
    if conflict is None or conflict.workspace_id != user.workspace_id:
        raise WebProblem(404, f"No conflict {conflict_id}.")
    chosen = _custom_value(value, conflict) if resolution is Resolution.CUSTOM else None
    resolve(db, user.workspace_id, conflict_id, resolution, chosen)
    db.commit()
    kept = {"local": "the app's value", "remote": "the CRM's value", "custom": "your value"}
    return redirect(
        f"{UI_PREFIX}/sync/conflicts", f"{conflict.field}: kept {kept[resolution.value]}."
    )
