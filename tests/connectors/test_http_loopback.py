"""The HTTP layer over real sockets against a small provider app on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmsync.connectors.errors import AuthError, Transient
from crmsync.connectors.http.client import ConnectorHttp, HttpSettings, build_http
from crmsync.connectors.http.guard import check_url
from crmsync.connectors.http.oauth import OAuth2Auth
from crmsync.connectors.http.retry import RetryPolicy
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.http.tokens import TokenSet
from crmsync.connectors.providers import get
from tests.e2e.waiting import PATIENCE


@dataclass
class ProviderState:
    access: str = "expired-access"
    refresh: str = "refresh-0"
    refreshes: int = 0
    throttle_next: int = 0
    revoked: bool = False
    token_forms: list[dict[str, str]] = field(default_factory=list)


def provider_app(state: ProviderState) -> Starlette:
    async def token(request: Request) -> Response:
        form = dict(await request.form())
        state.token_forms.append({k: str(v) for k, v in form.items()})
        if state.revoked or form.get("refresh_token") != state.refresh:
            return JSONResponse({"error": "invalid_grant", "error_description": "revoked"}, 400)
        state.refreshes += 1
        state.access = f"access-{state.refreshes}"
        state.refresh = f"refresh-{state.refreshes}"
        return JSONResponse(
            {
                "access_token": state.access,
                "refresh_token": state.refresh,
                "expires_in": 1800,
                "token_type": "bearer",
            }
        )

    async def contacts(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {state.access}":
            return JSONResponse({"category": "EXPIRED_AUTHENTICATION", "message": "expired"}, 401)
        if state.throttle_next:
            state.throttle_next -= 1
            return JSONResponse(
                {"errorType": "RATE_LIMIT", "message": "secondly"},
                429,
                headers={"Retry-After": "0.05"},
            )
        return JSONResponse({"results": [{"id": "1"}]})

    async def slow(request: Request) -> Response:
        await asyncio.sleep(1.0)
        return JSONResponse({})

    return Starlette(
        routes=[
            Route("/oauth/v1/token", token, methods=["POST"]),
            Route("/crm/v3/objects/contacts", contacts),
            Route("/slow", slow),
        ]
    )


@pytest.fixture
def provider() -> Iterator[tuple[ProviderState, str]]:
    state = ProviderState()
    config = uvicorn.Config(
        provider_app(state), host="127.0.0.1", port=0, log_level="error", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + PATIENCE
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("loopback provider did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield state, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def _oauth_http(
    base: str,
    state: ProviderState,
    token: str = "stored-access",  # noqa: S107
    settings: HttpSettings | None = None,
) -> tuple[ConnectorHttp, OAuth2Auth]:
    token_http = httpx.Client(timeout=5)
    endpoint = TokenEndpoint(
        url=f"{base}/oauth/v1/token",
        client_id="cid",
        client_secret=Secret("csecret"),
        http=token_http,
    )
    far = time.time() + 3600
    auth = OAuth2Auth(TokenSet(Secret(token), Secret(state.refresh), far), endpoint)
    http = build_http(
        base_url=str(check_url(base, "hubspot", sandbox_mode=True)),
        provider="hubspot",
        auth=auth,
        hooks=get("hubspot").error_hooks,
        settings=settings,
    )
    return http, auth


def test_refresh_on_401_over_sockets(provider: tuple[ProviderState, str]) -> None:
    state, base = provider
    state.access = "rotated-by-provider"  # our stored token is no longer valid
    http, auth = _oauth_http(base, state)
    response = http.get("/crm/v3/objects/contacts")
    assert response.json() == {"results": [{"id": "1"}]}
    assert state.refreshes == 1
    assert state.token_forms[0]["grant_type"] == "refresh_token"
    assert state.token_forms[0]["client_secret"] == "csecret"
    assert auth.token.refresh_token == Secret("refresh-1")


def test_revoked_refresh_token_is_an_auth_error(provider: tuple[ProviderState, str]) -> None:
    state, base = provider
    state.access = "rotated-by-provider"
    state.revoked = True
    http, _ = _oauth_http(base, state)
    with pytest.raises(AuthError, match="revoked"):
        http.get("/crm/v3/objects/contacts")


def test_429_wait_over_sockets(provider: tuple[ProviderState, str]) -> None:
    state, base = provider
    state.access = "access-ok"
    state.throttle_next = 2
    http, _ = _oauth_http(base, state, token="access-ok")
    response = http.get("/crm/v3/objects/contacts")
    assert response.status_code == 200
    assert state.throttle_next == 0


def test_read_timeout_is_transient(provider: tuple[ProviderState, str]) -> None:
    state, base = provider
    http, _ = _oauth_http(
        base,
        state,
        token="access-ok",
        settings=HttpSettings(
            timeout=0.2, retry=RetryPolicy(attempts=2, base=0.01, cap=0.01, jitter=0)
        ),
    )
    state.access = "access-ok"
    with pytest.raises(Transient, match="timed out"):
        http.get("/slow")
