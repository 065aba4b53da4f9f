"""``POST /api/v1/integrations/{id}/proxy``: one request to the CRM's own API (admins)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from crmsync.api.deps import Db, require
from crmsync.api.errors import ApiError, error_body
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routers.integrations import settings_of, wiring_of
from crmsync.api.routing import GuardedRoute
from crmsync.auth.keys import Principal
from crmsync.auth.permissions import Permission
from crmsync.connectors.errors import AuthError, ConfigError, RateLimited, Transient
from crmsync.integrations import proxy, service
from crmsync.integrations.keys import vault_for

CanProxy = Annotated[Principal, Depends(require(Permission.INTEGRATIONS_PROXY))]

router = APIRouter(
    route_class=GuardedRoute, prefix=f"{API_PREFIX}/integrations", tags=["integrations"]
)

QueryValue = str | int | float | bool | list[str | int | float | bool]


class ProxyIn(BaseModel):
    """The request to forward; `path` is relative to the CRM API's base URL."""

    model_config = ConfigDict(extra="forbid")

    method: str = Field("GET", description="GET, POST, PUT, PATCH or DELETE")
    path: str = Field(
        min_length=1,
        max_length=proxy.MAX_PATH,
        description="e.g. /crm/v3/owners (HubSpot), /services/data/v59.0/limits "
        "(Salesforce), /v1/users (Pipedrive); never a URL",
    )
    query: dict[str, QueryValue] = Field(default_factory=dict, max_length=100)
    body: Any = Field(None, description="a JSON body, sent as application/json")
    headers: dict[str, str] = Field(
        default_factory=dict,
        max_length=20,
        description="Accept, If-Match, If-None-Match, If-Modified-Since, "
        "If-Unmodified-Since and Sforce-* only",
    )


@router.post("/{integration_id}/proxy", summary="Send a request to the CRM's API")
def forward(
    principal: CanProxy, db: Db, request: Request, integration_id: uuid.UUID, body: ProxyIn
) -> JSON:
    """`{"status", "headers", "body", "error"}`: the CRM's answer, with the error class
    (`InvalidRecord`, `NotFound`, `RateLimited`…) when it failed. The request carries the
    integration's credentials and spends its rate budget; it can reach only the CRM's
    API host."""
    settings = settings_of(request)
    integration = service.get_integration(db, principal.workspace_id, integration_id)
    call = proxy.ProxyRequest(body.method, body.path, body.query, body.body, body.headers)
    try:
        answer = proxy.forward(integration, vault_for(settings), settings, call, wiring_of(request))
    except AuthError as exc:
        db.commit()  # keep the needs_auth status
        raise ApiError(409, "needs_auth", str(integration.last_error or exc.message)) from None
    except RateLimited as exc:
        wait = max(1, round(exc.retry_after))
        return JSON(
            error_body("rate_limited", exc.message),
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    except Transient as exc:
        raise ApiError(502, "crm_unreachable", exc.message, {"class": exc.kind}) from None
    except ConfigError as exc:
        if exc.code == "response_too_large":
            return JSON(error_body(exc.code, exc.message), status_code=502)
        raise
    db.commit()  # renewed tokens, needs_auth after a refused call
    return JSON(answer.as_json())
