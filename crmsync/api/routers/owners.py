"""``/api/v1/integrations/{id}/owners``: the CRM's users as cached (refreshed when older
than the TTL), and ``/owners/refresh`` to list them again now."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from crmsync.api.deps import CanOperateSync, CanReadIntegrations, Db
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.connectors.errors import AuthError, ConnectorError
from crmsync.errors import Invalid
from crmsync.integrations.service import get_integration
from crmsync.owners import cache
from crmsync.owners.listing import supports_owners
from crmsync.owners.users import users_by_email
from crmsync.store.models import CrmOwner, Integration
from crmsync.sync.targets import targets_of

router = APIRouter(
    route_class=GuardedRoute, prefix=f"{API_PREFIX}/integrations", tags=["integrations"]
)


class OwnerOut(BaseModel):
    remote_id: str = Field(description="the id the CRM's owner fields hold")
    email: str | None
    name: str
    active: bool
    aliases: list[str]
    user: dict[str, Any] | None = Field(
        description="the workspace's user with the same e-mail (`id`, `email`, `name`), if any"
    )


class OwnersOut(BaseModel):
    items: list[OwnerOut]
    listed_at: datetime | None = Field(description="when the CRM was last listed")
    stale: bool = Field(description="older than the cache's time to live")
    last_error: str | None = Field(description="why the last listing failed, if it did")


def _integration(db: Session, workspace_id: uuid.UUID, integration_id: uuid.UUID) -> Integration:
    integration = get_integration(db, workspace_id, integration_id)
    if not supports_owners(integration.provider):
        raise Invalid(
            f"{integration.provider} integrations have no API to list the CRM's users",
            [{"field": "integration_id", "message": "the provider cannot list its users"}],
        )
    return integration


def _out(db: Session, integration: Integration, cached: cache.Cached) -> dict[str, Any]:
    keys = {o.email_key for o in cached.owners if o.email_key}
    users = users_by_email(db, integration.workspace_id, keys)
    return {
        "items": [_owner(o, users) for o in cached.owners],
        "listed_at": cached.listed_at,
        "stale": cached.stale,
        "last_error": cached.last_error,
    }


def _owner(owner: CrmOwner, users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "remote_id": owner.remote_id,
        "email": owner.email,
        "name": owner.name,
        "active": owner.active,
        "aliases": list(owner.aliases or ()),
        "user": users.get(owner.email_key) if owner.email_key else None,
    }


@router.get(
    "/{integration_id}/owners", response_model=OwnersOut, summary="The CRM's users (owners)"
)
def owners(
    principal: CanReadIntegrations, db: Db, request: Request, integration_id: uuid.UUID
) -> JSON:
    """From the cache, listed again first when older than its time to live (1 hour);
    a listing that fails answers the last good one with `stale` and `last_error`."""
    integration = _integration(db, principal.workspace_id, integration_id)
    connector = targets_of(request.app).connector(integration)
    cached = cache.current(db, integration, connector)
    db.commit()
    return JSON(_out(db, integration, cached))


@router.post(
    "/{integration_id}/owners/refresh",
    response_model=OwnersOut,
    summary="List the CRM's users again now",
)
def refresh(principal: CanOperateSync, db: Db, request: Request, integration_id: uuid.UUID) -> JSON:
    """Lists the CRM's users now, whatever the cache's age; the CRM's error when it fails
    (409 when its credentials are refused, 502 otherwise)."""
    integration = _integration(db, principal.workspace_id, integration_id)
    connector = targets_of(request.app).connector(integration)
    try:
        cache.refresh(db, integration, connector)
    except AuthError as exc:
        db.commit()  # the listing's error
        raise ApiError(409, "needs_auth", exc.message, {"class": exc.kind}) from None
    except ConnectorError as exc:
        db.commit()
        raise ApiError(502, "provider_error", exc.message, {"class": exc.kind}) from None
    cached = cache.current(db, integration, None)
    db.commit()
    return JSON(_out(db, integration, cached))
