"""``/api/v1/alerts``: what an admin must act on, and acknowledging it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from crmsync.alerts.service import AlertNotFound, acknowledge
from crmsync.api.deps import CanOperateSync, CanReadIntegrations, Db
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.store.models import Alert, AlertStatus

router = APIRouter(route_class=GuardedRoute, prefix=f"{API_PREFIX}/alerts", tags=["alerts"])
FIELDS = (
    "id",
    "kind",
    "subject",
    "severity",
    "message",
    "details",
    "status",
    "count",
    "first_seen_at",
    "last_seen_at",
    "acknowledged_at",
    "acknowledged_by",
    "resolved_at",
    "emailed_at",
)


def _out(alert: Alert) -> dict[str, Any]:
    return {name: getattr(alert, name) for name in FIELDS}


@router.get("", summary="Alerts, newest first (open and acknowledged by default)")
def list_alerts(
    principal: CanReadIntegrations,
    db: Db,
    status: AlertStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSON:
    stmt = select(Alert).where(Alert.workspace_id == principal.workspace_id)
    if status is None:
        stmt = stmt.where(Alert.status != AlertStatus.RESOLVED)
    else:
        stmt = stmt.where(Alert.status == status)
    rows = db.scalars(stmt.order_by(Alert.last_seen_at.desc(), Alert.id).limit(limit))
    return JSON({"items": [_out(a) for a in rows]})


@router.post("/{alert_id}/acknowledge", summary="Say someone is on it")
def post_acknowledge(principal: CanOperateSync, db: Db, alert_id: uuid.UUID) -> JSON:
    try:
        alert = acknowledge(
            db, principal.workspace_id, alert_id, f"key:{principal.key_id}", datetime.now(UTC)
        )
    except AlertNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    db.commit()
    return JSON(_out(alert))
