"""HubSpot auth: private-app tokens and the OAuth authorization-code flow.

``GET /oauth/authorize`` approves at once and redirects to `redirect_uri` with a
``code`` (and ``state``); ``POST /oauth/v1/token`` (or ``/oauth/v3/token``) trades a
code or refresh token for a 30-minute access token. Errors use HubSpot's OAuth shape
``{status: "BAD_AUTH_CODE", message, correlationId}``.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import json_response, new_secret

ACCESS_TTL = 1800
DEFAULT_SCOPES = ("oauth", "crm.objects.contacts.read", "crm.objects.contacts.write")


@dataclass
class Grant:
    """An issued access token."""

    expires_at: float
    scopes: tuple[str, ...]
    refresh_token: str


@dataclass
class TokenStore:
    """The app's client credentials, the private-app token and issued OAuth tokens."""

    clock: Callable[[], float] = time.time
    hub_id: int = 62515
    app_id: int = 54321
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    private_token: str = field(default_factory=lambda: f"pat-na1-{uuid.uuid4()}")
    developer_api_key: str = field(default_factory=lambda: str(uuid.uuid4()))
    codes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    access: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def status(self, token: str) -> str:
        """``ok``, ``expired`` or ``invalid`` for a bearer token."""
        if token == self.private_token:
            return "ok"
        grant = self.access.get(token)
        if grant is None:
            return "invalid"
        return "ok" if grant.expires_at > self.clock() else "expired"

    def issue(self, scopes: tuple[str, ...], refresh_token: str | None = None) -> dict[str, Any]:
        """A new access token (and refresh token unless refreshing)."""
        refresh = refresh_token or str(uuid.uuid4())
        self.refresh[refresh] = scopes
        token = "C" + new_secret(nbytes=60)
        self.access[token] = Grant(self.clock() + ACCESS_TTL, scopes, refresh)
        return {
            "access_token": token,
            "refresh_token": refresh,
            "expires_in": ACCESS_TTL,
            "token_type": "bearer",
            "token_use": "access_token",
            "hub_id": self.hub_id,
            "scopes": list(scopes),
        }

    def forget_issued(self) -> None:
        """Drop codes and OAuth tokens (the private-app token stays)."""
        self.codes.clear()
        self.access.clear()
        self.refresh.clear()


def oauth_error(status: str, message: str) -> Response:
    """400 in HubSpot's OAuth error shape."""
    return json_response(
        {"status": status, "message": message, "correlationId": str(uuid.uuid4())}, status=400
    )


def oauth_routes(tokens: TokenStore) -> list[BaseRoute]:
    """Authorize, token, and token-information endpoints."""

    async def authorize(request: Request) -> Response:
        params = request.query_params
        if params.get("client_id") != tokens.client_id:
            return oauth_error("BAD_CLIENT_ID", "missing or unknown client_id")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return oauth_error("BAD_REDIRECT_URI", "missing redirect_uri")
        code = secrets.token_urlsafe(24)
        scopes = tuple((params.get("scope") or " ".join(DEFAULT_SCOPES)).split())
        tokens.codes[code] = (redirect_uri, scopes)
        query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        joiner = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{joiner}{urlencode(query)}", status_code=302)

    async def token(request: Request) -> Response:
        form = await request.form()
        fields = {k: str(v) for k, v in form.items()}
        if fields.get("client_id") != tokens.client_id:
            return oauth_error("BAD_CLIENT_ID", "missing or unknown client_id")
        if fields.get("client_secret") != tokens.client_secret:
            return oauth_error("BAD_CLIENT_SECRET", "missing or invalid client_secret")
        grant = fields.get("grant_type")
        if grant == "authorization_code":
            entry = tokens.codes.pop(fields.get("code", ""), None)
            if entry is None:
                return oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
            if fields.get("redirect_uri") != entry[0]:
                return oauth_error("BAD_REDIRECT_URI", "redirect_uri does not match")
            return json_response(tokens.issue(entry[1]))
        if grant == "refresh_token":
            refresh = fields.get("refresh_token", "")
            scopes = tokens.refresh.get(refresh)
            if scopes is None:
                return oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
            return json_response(tokens.issue(scopes, refresh))
        return oauth_error(
            "BAD_GRANT_TYPE", "grant_type must be authorization_code or refresh_token"
        )

    async def access_token_info(request: Request) -> Response:
        token = request.path_params["token"]
        grant = tokens.access.get(token)
        if grant is None or grant.expires_at <= tokens.clock():
            return json_response(
                {"status": "error", "message": "access token not found or expired"}, status=404
            )
        return json_response(
            {
                "token": token,
                "user": "sandbox@example.com",
                "hub_domain": "sandbox.example.com",
                "scopes": list(grant.scopes),
                "hub_id": tokens.hub_id,
                "app_id": tokens.app_id,
                "expires_in": int(grant.expires_at - tokens.clock()),
                "user_id": 1,
                "token_type": "access",
            }
        )

    async def refresh_token_info(request: Request) -> Response:
        token = request.path_params["token"]
        scopes = tokens.refresh.get(token)
        if scopes is None:
            return json_response(
                {"status": "error", "message": "refresh token not found"}, status=404
            )
        if request.method == "DELETE":
            del tokens.refresh[token]
            return Response(status_code=204)
        return json_response(
            {
                "token": token,
                "hub_id": tokens.hub_id,
                "scopes": list(scopes),
                "client_id": tokens.client_id,
            }
        )

    return [
        Route("/oauth/authorize", authorize, methods=["GET"]),
        Route("/oauth/v1/token", token, methods=["POST"]),
        Route("/oauth/v3/token", token, methods=["POST"]),
        Route("/oauth/v1/access-tokens/{token}", access_token_info, methods=["GET"]),
        Route("/oauth/v1/refresh-tokens/{token}", refresh_token_info, methods=["GET", "DELETE"]),
    ]
