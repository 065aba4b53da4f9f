"""``/api/v1/oauth/{provider}``: the authorization-code flow that connects a CRM account."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from crmsync.api.deps import Db, require
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routers.integrations import out, settings_of, wiring_of
from crmsync.api.routing import GuardedRoute
from crmsync.auth.keys import Principal
from crmsync.auth.permissions import Permission
from crmsync.integrations import oauth
from crmsync.integrations.keys import vault_for

CanManage = Annotated[Principal, Depends(require(Permission.INTEGRATIONS_MANAGE))]

router = APIRouter(route_class=GuardedRoute, prefix=f"{API_PREFIX}/oauth", tags=["oauth"])


@router.get("/{provider}/authorize", summary="Start connecting a CRM account by OAuth")
def authorize(
    principal: CanManage,
    db: Db,
    request: Request,
    provider: str,
    integration_id: uuid.UUID | None = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
    base_url: Annotated[str | None, Query(max_length=500)] = None,
    redirect: bool = False,
) -> Response:
    """`{"authorize_url", "state", "expires_at"}`, or a redirect there with `redirect=true`.

    Pass `integration_id` to reconnect an integration that needs authorization.
    """
    settings = settings_of(request)
    found = oauth.start(
        db,
        vault_for(settings),
        settings,
        principal.workspace_id,
        provider,
        integration_id=integration_id,
        name=name,
        base_url=base_url,
    )
    if redirect:
        return RedirectResponse(found.url, status_code=307)
    return JSON({"authorize_url": found.url, "state": found.state, "expires_at": found.expires_at})


@router.get("/{provider}/callback", summary="Where the provider sends the user back")
def callback(
    db: Db,
    request: Request,
    provider: str,
    state: Annotated[str, Query(max_length=4000)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    error: str | None = None,
) -> JSON:
    """Needs no API key: the sealed `state` says which workspace asked."""
    if error:
        raise ApiError(400, "oauth_denied", f"{provider} answered: {error}")
    if not code or not state:
        raise ApiError(400, "bad_request", "code and state are required")
    settings = settings_of(request)
    vault = vault_for(settings)
    integration = oauth.complete(db, vault, settings, provider, code, state, wiring_of(request))
    db.commit()
    return JSON({"integration": out(vault, integration)})
