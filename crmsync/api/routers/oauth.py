"""``/api/v1/oauth/{provider}``: the authorization-code flow that connects a CRM account.

``authorize`` (GET with query parameters, or POST with the whole sync config and
mapping) starts it; ``callback`` is where the provider sends the user's browser back.
The callback answers a browser: a flow started from the web app returns to its
integrations page with a message; otherwise a redirect to ``CRMSYNC_APP_URL`` when one
is set, else a small page saying what was connected (or what went wrong); a caller that
asks for ``application/json`` gets JSON.
"""

import uuid
from html import escape
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from crmsync.api.deps import Db, require
from crmsync.api.errors import ApiError, error_body, status_of
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routers.integrations import out, settings_of, wiring_of
from crmsync.api.routing import GuardedRoute
from crmsync.auth.keys import Principal, authenticate
from crmsync.auth.permissions import Permission
from crmsync.config import Settings
from crmsync.errors import CrmsyncError
from crmsync.integrations import oauth
from crmsync.integrations.config import SyncConfig
from crmsync.integrations.keys import vault_for
from crmsync.integrations.providers import provider as provider_spec
from crmsync.mapping.model import MappingSet
from crmsync.store.models import Integration, IntegrationStatus
from crmsync.web import render

CanManage = Annotated[Principal, Depends(require(Permission.INTEGRATIONS_MANAGE))]

router = APIRouter(route_class=GuardedRoute, prefix=f"{API_PREFIX}/oauth", tags=["oauth"])


class AuthorizeIn(BaseModel):
    """``POST /api/v1/oauth/{provider}/authorize``: the integration to create, ready to sync."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    base_url: str | None = Field(
        None,
        max_length=500,
        description="the provider's login host; Salesforce: https://login.salesforce.com "
        "(default), https://test.salesforce.com for sandboxes, or the org's My Domain",
    )
    integration_id: uuid.UUID | None = Field(
        None, description="reconnect this integration instead of creating one"
    )
    config: SyncConfig | None = Field(
        None, description="objects and direction per object, frequency, conflict policy…"
    )
    mapping: MappingSet | None = Field(
        None, description="the field mapping to start with; absent: the provider's default"
    )
    redirect: bool = False


def _start(
    principal: Principal, db: Db, request: Request, provider: str, body: AuthorizeIn
) -> Response:
    settings = settings_of(request)
    found = oauth.start(
        db,
        vault_for(settings),
        settings,
        principal.workspace_id,
        principal.key_id,
        provider,
        integration_id=body.integration_id,
        name=body.name,
        base_url=body.base_url,
        config=body.config,
        mapping=body.mapping,
    )
    db.commit()
    if body.redirect:
        return RedirectResponse(found.url, status_code=303)
    return JSON({"authorize_url": found.url, "state": found.state, "expires_at": found.expires_at})


@router.get("/{provider}/authorize", summary="Start connecting a CRM account by OAuth")
def authorize(
    principal: CanManage,
    db: Db,
    request: Request,
    provider: str,
    integration_id: uuid.UUID | None = None,
    name: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    base_url: Annotated[str | None, Query(max_length=500)] = None,
    redirect: bool = False,
) -> Response:
    """`{"authorize_url", "state", "expires_at"}`, or a redirect there with `redirect=true`.

    Pass `integration_id` to reconnect an integration that needs authorization. To give
    the sync config and mapping too, use `POST` with a JSON body.
    """
    body = AuthorizeIn(
        name=name, base_url=base_url, integration_id=integration_id, redirect=redirect
    )
    return _start(principal, db, request, provider, body)


@router.post("/{provider}/authorize", summary="Start connecting a CRM account, with its config")
def authorize_with_config(
    principal: CanManage, db: Db, request: Request, provider: str, body: AuthorizeIn
) -> Response:
    """Like `GET`, with the integration's sync config (objects, direction per object…)
    and mapping, so the integration is created ready to sync after the consent."""
    return _start(principal, db, request, provider, body)


def _caller(request: Request, db: Db) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The (workspace, key) of a callback relayed with an API key; ``None`` from a browser."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return None
    principal = authenticate(db, token.strip()) if scheme.lower() == "bearer" else None
    if principal is None:
        raise ApiError(401, "unauthorized", "the API key is unknown or revoked")
    return principal.workspace_id, principal.key_id


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _app_redirect(settings: Settings, params: dict[str, str]) -> Response | None:
    if not settings.app_url:
        return None
    joiner = "&" if "?" in settings.app_url else "?"
    return RedirectResponse(f"{settings.app_url}{joiner}{urlencode(params)}", status_code=303)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;
padding:0 1rem;color:#222}}h1{{font-size:1.4rem}}code{{background:#f3f3f3;padding:0 .2rem}}
</style></head><body><h1>{title}</h1><p>{text}</p></body></html>"""


def _page(title: str, text: str, status: int) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), text=text), status_code=status)


def _refused(
    request: Request, provider: str, status: int, code: str, message: str, *, web: bool = False
) -> Response:
    """The callback failed: the app hears of it, else the user reads it."""
    if _wants_json(request):
        return JSON(error_body(code, message), status_code=status)
    if web:
        return render.redirect(
            "/ui/integrations", f"The connection was not made: {message}", "error"
        )
    redirect = _app_redirect(
        settings_of(request), {"provider": provider, "status": "error", "error": code}
    )
    if redirect is not None:
        return redirect
    return _page("The connection was not made", escape(message), status)


def _connected(
    request: Request, integration: Integration, reconnected: bool, *, web: bool = False
) -> Response:
    settings = settings_of(request)
    if _wants_json(request):
        return JSON({"integration": out(vault_for(settings), integration)})
    label = provider_spec(integration.provider).label
    verb = "reconnected" if reconnected else "connected"
    if web:
        said = f"{label} is {verb} as {integration.name}."
        return render.redirect(f"/ui/integrations/{integration.id}", said)
    params = {"integration_id": str(integration.id), "status": IntegrationStatus.CONNECTED}
    redirect = _app_redirect(settings, params)
    if redirect is not None:
        return redirect
    objects: dict[str, Any] = (integration.config or {}).get("objects") or {}
    syncing = ", ".join(f"{o} ({d})" for o, d in sorted(objects.items())) or "nothing yet"
    text = (
        f"{escape(label)} is {verb} as <strong>{escape(integration.name)}</strong> "
        f"(integration <code>{integration.id}</code>). Syncing: {escape(syncing)}. "
        "You can close this window."
    )
    return _page(f"{label} {verb}", text, 200)


# The callback answers a browser with a page, and a caller asking for JSON with JSON,
# whatever the outcome (a failure answers with its error's status).
_PAGE_OR_JSON: dict[str, Any] = {"content": {"text/html": {}, "application/json": {}}}


@router.get(
    "/{provider}/callback",
    summary="Where the provider sends the user back",
    responses={code: _PAGE_OR_JSON for code in (200, 400, 403, 404, 409, 413, 422, 503)},
)
def callback(
    db: Db,
    request: Request,
    provider: str,
    state: Annotated[str, Query(max_length=4000)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Needs no API key: the state says which workspace and key (or web app user) asked.
    Relayed with an API key, the key must be the one that started the flow. A flow
    started from the web app returns to its integrations page.

    Redirects to `CRMSYNC_APP_URL?integration_id=…&status=connected` when set, else
    answers a page saying what was connected; `Accept: application/json` gets
    `{"integration"}`.
    """
    web = bool(state) and oauth.started_by_user(db, state)
    if error:
        said = f"{provider} answered: {error}"
        return _refused(request, provider, 400, "oauth_denied", said, web=web)
    if not code or not state:
        said = "code and state are required"
        return _refused(request, provider, 400, "bad_request", said, web=web)
    settings = settings_of(request)
    vault = vault_for(settings)
    try:
        intent = oauth.claim(db, vault, provider, state, caller=_caller(request, db))
        db.commit()  # the state is used up even if the exchange below fails
        integration = oauth.complete(db, vault, settings, intent, code, wiring_of(request))
    except CrmsyncError as exc:
        db.rollback()
        return _refused(request, provider, status_of(exc), exc.code, exc.message, web=web)
    db.commit()
    reconnected = intent.integration_id is not None
    return _connected(request, integration, reconnected, web=intent.user_id is not None)
