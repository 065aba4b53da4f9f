"""``/api/v1/{type}/{id}/history`` (the record's ChangeLog) and ``/api/v1/{type}/{id}/sync``
(push the record now), for every record type."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from crmsync.api.deps import CanOperateSync, CanReadRecords, Db
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.records import history as record_history
from crmsync.records import service
from crmsync.records.payloads import singular
from crmsync.records.schemas import CREATE_SCHEMAS
from crmsync.sync import push_now
from crmsync.sync.targets import targets_of


class ChangeOut(BaseModel):
    id: int
    field: str = Field(description="the changed field; `*` is the record's creation")
    old_value: Any = None
    new_value: Any = Field(None, description="for `*`, every initial value as an object")
    source: str = Field(description="`api`, `import:<job>`, `crm:<integration>`, `merge`…")
    at: datetime


class HistoryOut(BaseModel):
    items: list[ChangeOut]
    next_cursor: str | None = None


class PushOut(BaseModel):
    integration_id: uuid.UUID
    integration_name: str
    status: str = Field(description="synced | failed | retrying | in_progress | queued")
    remote_id: str | None = None
    error: str | None = None


class SyncOut(BaseModel):
    results: list[PushOut]


def build_router(record_type: str) -> APIRouter:
    one = singular(record_type)
    router = APIRouter(
        route_class=GuardedRoute, prefix=f"{API_PREFIX}/{record_type}", tags=[record_type]
    )

    @router.get(
        "/{record_id}/history", response_model=HistoryOut, summary=f"The ChangeLog of a {one}"
    )
    def history(
        principal: CanReadRecords,
        db: Db,
        record_id: uuid.UUID,
        limit: Annotated[int, Query(ge=1, le=record_history.MAX_LIMIT)] = 100,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> JSON:
        """Newest first; pass `next_cursor` back as `cursor` for older changes. A created
        record has one row, field `*`, holding all its initial values; each later change
        one row per changed field. A deleted record keeps its history."""
        items, following = record_history.history(
            db, principal.workspace_id, record_type, record_id, limit=limit, cursor=cursor
        )
        return JSON({"items": items, "next_cursor": following})

    @router.post("/{record_id}/sync", response_model=SyncOut, summary=f"Push a {one} now")
    def sync(
        request: Request,
        principal: CanOperateSync,
        db: Db,
        record_id: uuid.UUID,
        integration_id: uuid.UUID | None = None,
    ) -> JSON:
        """Pushes the record to one integration (`integration_id`) or to every integration
        that pushes this type, now, and answers each one's outcome: its remote id, or the
        error. A failed push is retried by the worker as any other."""
        record = service.get_record(db, principal.workspace_id, record_type, record_id)
        targets = push_now.integrations_for(db, principal.workspace_id, record_type, integration_id)
        outcomes = push_now.push_record(
            db,
            request.app.state.sessionmaker,
            targets_of(request.app),
            record_type,
            record.id,  # a merged-away id pushes its survivor
            targets,
        )
        return JSON({"results": [o.out() for o in outcomes]})

    return router


routers = [build_router(t) for t in CREATE_SCHEMAS]
