"""``/api/v1/integrations/{id}/health``: how the connection is doing and what to do."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from crmsync.api.deps import CanReadIntegrations, Db
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.integrations.service import get_integration
from crmsync.sync import health

router = APIRouter(
    route_class=GuardedRoute, prefix=f"{API_PREFIX}/integrations", tags=["integrations"]
)


@router.get("/{integration_id}/health", summary="Connection health and what to do next")
def get_health(principal: CanReadIntegrations, db: Db, integration_id: uuid.UUID) -> JSON:
    """Per object type: last successful push and pull, lag, pending jobs, dead letters,
    24-hour error rate, back-off and schedule; the API quota the CRM last reported (used
    and left); the shown status (`degraded` while a type fails or dead letters arrive);
    and `next_steps` (`reauthorize`, `run setup`, `fix mapping`, `fix config`, `replay`)."""
    integration = get_integration(db, principal.workspace_id, integration_id)
    return JSON(health.report(db, integration).as_json())
