"""``/api/v1/sync-jobs``: the outbox as operators see it, and dead-letter replay."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict

from crmsync.api.deps import CanOperateSync, CanReadIntegrations, Db
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.store.models import SyncJob, SyncJobStatus
from crmsync.sync import dlq

router = APIRouter(route_class=GuardedRoute, prefix=f"{API_PREFIX}/sync-jobs", tags=["sync"])


class SyncJobOut(BaseModel):
    id: int
    integration_id: uuid.UUID
    object_type: str
    record_id: uuid.UUID
    operation: str
    priority: int
    status: SyncJobStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    error_class: str | None
    enqueued_at: datetime
    updated_at: datetime


class SyncJobPage(BaseModel):
    items: list[SyncJobOut]
    next_cursor: str | None


class ReplayAllIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    integration_id: uuid.UUID | None = None


def _out(job: SyncJob) -> dict[str, object]:
    return {name: getattr(job, name) for name in SyncJobOut.model_fields}


@router.get("", response_model=SyncJobPage, summary="List sync jobs (dead letters by default)")
def list_sync_jobs(
    principal: CanReadIntegrations,
    db: Db,
    status: SyncJobStatus | None = SyncJobStatus.DEAD,
    integration_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,18}$")] = None,
) -> JSON:
    """`status=dead` is the dead-letter queue: jobs whose retries are spent, with their
    last error. Page with `next_cursor`."""
    items = dlq.list_jobs(
        db,
        principal.workspace_id,
        status=status,
        integration_id=integration_id,
        limit=limit + 1,
        after_id=int(cursor) if cursor else None,
    )
    more = len(items) > limit
    items = items[:limit]
    return JSON(
        {
            "items": [_out(j) for j in items],
            "next_cursor": str(items[-1].id) if more and items else None,
        }
    )


@router.post("/{job_id}/replay", response_model=SyncJobOut, summary="Replay one dead job")
def replay_job(
    principal: CanOperateSync, db: Db, job_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
) -> JSON:
    try:
        job = dlq.replay(db, principal.workspace_id, job_id)
    except ValueError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    if job is None:
        raise ApiError(404, "not_found", f"no sync job with id {job_id}")
    db.commit()
    return JSON(_out(job))


@router.post("/replay-all", summary="Replay every dead job (of one integration, optionally)")
def replay_all(principal: CanOperateSync, db: Db, body: ReplayAllIn | None = None) -> JSON:
    count = dlq.replay_all(db, principal.workspace_id, body.integration_id if body else None)
    db.commit()
    return JSON({"replayed": count})
