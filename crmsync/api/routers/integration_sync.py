"""``/api/v1/integrations/{id}/sync``, ``/sync-status`` and ``/sync-logs``."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from crmsync.api.deps import CanOperateSync, CanReadIntegrations, Db
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.integrations.service import get_integration
from crmsync.records.schemas import UtcDatetime
from crmsync.sync import manual

router = APIRouter(
    route_class=GuardedRoute, prefix=f"{API_PREFIX}/integrations", tags=["integrations"]
)


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["incremental", "full"] = "incremental"


@router.post("/{integration_id}/sync", status_code=202, summary="Start a sync now")
def start_sync(
    principal: CanOperateSync, db: Db, integration_id: uuid.UUID, body: SyncRequest | None = None
) -> JSON:
    """Pushes every record of the pushed object types (unchanged ones are skipped by
    hash) and polls the pulled ones; `full` polls from the beginning. The worker runs it;
    follow it in `/sync-status` and `/sync-logs`."""
    integration = get_integration(db, principal.workspace_id, integration_id)
    queued = manual.request_sync(db, integration, full=(body or SyncRequest()).mode == "full")
    db.commit()
    return JSON(queued, status_code=202)


@router.get("/{integration_id}/sync-status", summary="Queue and last runs of an integration")
def sync_status(principal: CanReadIntegrations, db: Db, integration_id: uuid.UUID) -> JSON:
    integration = get_integration(db, principal.workspace_id, integration_id)
    return JSON(manual.sync_status(db, integration))


@router.get("/{integration_id}/sync-logs", summary="Sync runs of an integration, newest first")
def sync_logs(
    principal: CanReadIntegrations,
    db: Db,
    integration_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: UtcDatetime | None = None,
) -> JSON:
    """Page back with `before` set to the last item's `started_at`."""
    integration = get_integration(db, principal.workspace_id, integration_id)
    runs = manual.sync_logs(db, integration, limit=limit, before=before)
    return JSON({"items": [manual.run_out(r) for r in runs]})
