"""``/api/v1/integrations/{id}/setup``: what the integration needs on the CRM side, and
creating what is missing (custom fields, property groups, webhooks)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query, Request

from crmsync.api.deps import Db, require
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routers.integrations import settings_of, wiring_of
from crmsync.api.routing import GuardedRoute
from crmsync.auth.keys import Principal
from crmsync.auth.permissions import Permission
from crmsync.connectors.errors import AuthError, ConnectorError
from crmsync.integrations import service
from crmsync.integrations.keys import vault_for
from crmsync.integrations.service import mark_needs_auth
from crmsync.integrations.setup import service as setup
from crmsync.store.models import Integration

CanRead = Annotated[Principal, Depends(require(Permission.INTEGRATIONS_READ))]
CanManage = Annotated[Principal, Depends(require(Permission.INTEGRATIONS_MANAGE))]

router = APIRouter(
    route_class=GuardedRoute, prefix=f"{API_PREFIX}/integrations", tags=["integrations"]
)

T = TypeVar("T")


def _talking(db: Db, integration: Integration, call: Callable[[], T]) -> T:
    """Run a call that talks to the CRM; its refusals become clear answers."""
    try:
        return call()
    except AuthError as exc:
        mark_needs_auth(integration, exc.message, oauth=False)
        db.commit()  # keep the needs_auth status
        raise ApiError(409, "needs_auth", str(integration.last_error)) from None
    except ConnectorError as exc:
        raise ApiError(502, "provider_error", exc.message, {"class": exc.kind}) from None


@router.get("/{integration_id}/setup", summary="What the CRM side needs, and what is missing")
def plan(principal: CanRead, db: Db, request: Request, integration_id: uuid.UUID) -> JSON:
    """Each item (field, property group, external-id field, webhook) is `present`,
    `missing` (POST creates it) or `manual` (its `steps` say what to click in the CRM)."""
    settings = settings_of(request)
    integration = service.get_integration(db, principal.workspace_id, integration_id)
    vault = vault_for(settings)
    found = _talking(
        db, integration, lambda: setup.plan(db, integration, vault, settings, wiring_of(request))
    )
    db.commit()  # renewed tokens
    return JSON(found.to_json())


@router.post("/{integration_id}/setup", summary="Create what the CRM side is missing")
def apply(
    principal: CanManage,
    db: Db,
    request: Request,
    integration_id: uuid.UUID,
    dry_run: Annotated[bool, Query(description="report what would be created")] = False,
) -> JSON:
    """Idempotent: each item answers `created`, `exists`, `manual` or `failed` (with the
    CRM's reason); a second run creates nothing."""
    settings = settings_of(request)
    integration = service.get_integration(db, principal.workspace_id, integration_id)
    vault = vault_for(settings)
    report = _talking(
        db,
        integration,
        lambda: setup.apply(db, integration, vault, settings, wiring_of(request), dry_run=dry_run),
    )
    db.commit()
    return JSON(report.to_json())
