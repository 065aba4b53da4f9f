"""Alerts: what needs someone, read by anyone who may read integrations, acknowledged by
those who operate sync (as ``/api/v1/alerts``). Open and acknowledged by default; a
status shows only those."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from crmsync.alerts.service import AlertNotFound, acknowledge
from crmsync.web import logs
from crmsync.web.deps import Db
from crmsync.web.guard import IntegrationReader, SyncOperator, WebProblem, WebRoute
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=f"{UI_PREFIX}/alerts", include_in_schema=False)
HERE = f"{UI_PREFIX}/alerts"


@router.get("")
def alerts_page(
    request: Request, user: IntegrationReader, db: Db, status: str | None = None
) -> Response:
    if status not in (None, "", *logs.ALERT_STATUSES):
        raise WebProblem(422, f"status: one of {', '.join(logs.ALERT_STATUSES)}")
    context = {
        "alerts": logs.alerts(db, user.workspace_id, status or None),
        "status": status or "",
        "statuses": logs.ALERT_STATUSES,
        "limit": logs.PAGE,
    }
    return page(request, "alerts.html", context)


@router.post("/{alert_id}/acknowledge")
def acknowledge_alert(user: SyncOperator, db: Db, alert_id: uuid.UUID) -> Response:
    try:
        now = datetime.now(UTC)
        alert = acknowledge(db, user.workspace_id, alert_id, f"user:{user.email}", now)
    except AlertNotFound:
        raise WebProblem(404, f"No alert {alert_id}.") from None
    db.commit()
    return redirect(HERE, f"Acknowledged: {alert.message[:120]}")
