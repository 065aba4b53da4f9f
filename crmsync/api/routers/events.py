"""``POST /api/v1/events``: tell crmsync what happened in the app."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict, Field

from crmsync.api.deps import CanWriteEvents, Db
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.events.service import IdempotencyConflict, record_event

router = APIRouter(route_class=GuardedRoute, prefix=API_PREFIX, tags=["events"])


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(
        pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$",
        max_length=100,
        description="e.g. lead.created, lead.status_changed, loan.milestone_updated, "
        "message.sent, rate_alert.triggered",
    )
    data: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime | None = None


class EventOut(BaseModel):
    id: uuid.UUID
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    received_at: datetime


@router.post("/events", status_code=202, response_model=EventOut, summary="Record an app event")
def post_event(
    principal: CanWriteEvents,
    db: Db,
    body: EventIn,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSON:
    """With an `Idempotency-Key`, a repeated identical request returns the first answer;
    the same key with a different body is a 409."""
    try:
        event, _replayed = record_event(
            db, principal.workspace_id, body.model_dump(mode="json"), idempotency_key
        )
    except IdempotencyConflict as exc:
        raise ApiError(409, "idempotency_conflict", str(exc)) from None
    db.commit()
    return JSON(
        {
            "id": event.id,
            "type": event.type,
            "data": event.data,
            "occurred_at": event.occurred_at,
            "received_at": event.received_at,
        },
        status_code=202,
    )
