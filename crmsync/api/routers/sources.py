"""``/api/v1/sources``: the event-bus sources of a workspace, their status, pause/resume."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from crmsync.api.deps import CanReadIntegrations, Db, require
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.auth.keys import Principal
from crmsync.auth.permissions import Permission
from crmsync.bus import sources
from crmsync.bus.spec import BadSource
from crmsync.store.models import BusSource, BusSourceStatus

router = APIRouter(route_class=GuardedRoute, prefix=f"{API_PREFIX}/sources", tags=["sources"])

IsAdmin = Annotated[Principal, Depends(require(Permission.WORKSPACE_ADMIN))]


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(description="redis://, amqp://, nats:// or kafka:// URL of the broker")
    stream: str = Field(min_length=1, max_length=255, description="stream, queue, subject or topic")
    group: str = Field("crmsync", min_length=1, max_length=100)
    enabled: bool = Field(True, description="run by `crmsync worker`")


class SourceOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    url: str
    stream: str
    dead_letters: str
    group: str
    enabled: bool
    paused: bool
    status: BusSourceStatus
    last_error: str | None
    stored: int
    duplicates: int
    dead_lettered: int
    lag: int | None
    last_message_at: datetime | None
    heartbeat_at: datetime | None


class SourceList(BaseModel):
    items: list[SourceOut]


@router.get("", response_model=SourceList, summary="List event-bus sources with their status")
def list_sources(principal: CanReadIntegrations, db: Db) -> JSON:
    """`status` is `idle`, `running`, `paused` or `error` (with `last_error`); counts are
    since the source was made; `lag` is what the broker still holds for it."""
    rows = sources.list_sources(db, principal.workspace_id)
    return JSON({"items": [sources.describe(s) for s in rows]})


@router.post("", response_model=SourceOut, status_code=201, summary="Configure a source")
def save_source(principal: IsAdmin, db: Db, body: SourceIn) -> JSON:
    """Create the source of this name (or change it); `crmsync worker` runs enabled ones."""
    try:
        source = sources.save_source(
            db,
            principal.workspace_id,
            body.name,
            body.url,
            body.stream,
            body.group,
            enabled=body.enabled,
        )
    except BadSource as exc:
        raise ApiError(
            422, "validation_error", str(exc), [{"field": "url", "message": str(exc)}]
        ) from None
    db.commit()
    return JSON(sources.describe(source), status_code=201)


@router.get("/{source_id}", response_model=SourceOut, summary="One source")
def get_source(principal: CanReadIntegrations, db: Db, source_id: uuid.UUID) -> JSON:
    return JSON(sources.describe(_found(db, principal, source_id)))


@router.post("/{source_id}/pause", response_model=SourceOut, summary="Pause a source")
def pause_source(principal: IsAdmin, db: Db, source_id: uuid.UUID) -> JSON:
    """Its consumer stops taking messages in within a second; they wait on the broker."""
    return _switch(db, principal, source_id, paused=True)


@router.post("/{source_id}/resume", response_model=SourceOut, summary="Resume a source")
def resume_source(principal: IsAdmin, db: Db, source_id: uuid.UUID) -> JSON:
    return _switch(db, principal, source_id, paused=False)


def _switch(db: Db, principal: Principal, source_id: uuid.UUID, *, paused: bool) -> JSON:
    source = sources.set_paused(db, principal.workspace_id, source_id, paused)
    if source is None:
        raise ApiError(404, "not_found", f"no source {source_id}")
    db.commit()
    return JSON(sources.describe(source))


def _found(db: Db, principal: Principal, source_id: uuid.UUID) -> BusSource:
    source = sources.get_source(db, principal.workspace_id, source_id)
    if source is None:
        raise ApiError(404, "not_found", f"no source {source_id}")
    return source
