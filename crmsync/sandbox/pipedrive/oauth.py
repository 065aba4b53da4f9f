"""OAuth routes of oauth.pipedrive.com: /oauth/authorize, /oauth/token and /oauth/revoke."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from crmsync.sandbox.pipedrive.auth import Grant, OAuthServer
from crmsync.sandbox.pipedrive.envelope import json_response


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic` header, or None."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def routes(server: OAuthServer) -> list[Route]:
    async def authorize(request: Request) -> Response:
        query = request.query_params
        redirect_uri = query.get("redirect_uri")
        if query.get("client_id") != server.client_id or not redirect_uri:
            return _oauth_error("invalid_request", "Unknown client_id or missing redirect_uri")
        # The sandbox's user approves at once: redirect back with a code.
        params = {"code": server.issue_code(redirect_uri)}
        if query.get("state"):
            params["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302)

    async def token(request: Request) -> Response:
        if basic_credentials(request) != (server.client_id, server.client_secret):
            return _oauth_error("invalid_client", "Invalid client credentials", 401)
        form = await request.form()
        grant_type = form.get("grant_type")
        grant: Grant | None
        if grant_type == "authorization_code":
            grant = server.exchange_code(str(form.get("code", "")), str(form.get("redirect_uri")))
        elif grant_type == "refresh_token":
            grant = server.use_refresh(str(form.get("refresh_token", "")))
        else:
            return _oauth_error("unsupported_grant_type", f"Unsupported grant_type {grant_type}")
        if grant is None:
            return _oauth_error("invalid_grant", "Invalid or expired code or refresh token")
        return json_response(
            {
                "access_token": grant.access_token,
                "token_type": "Bearer",
                "refresh_token": grant.refresh_token,
                "scope": "base,deals:full,contacts:full,activities:full,leads:full",
                "expires_in": round(grant.expires_at - server.clock()),
                "api_domain": str(request.base_url).rstrip("/"),
            }
        )

    async def revoke(request: Request) -> Response:
        # RFC 7009: HTTP Basic client auth, form `token` (+ optional `token_type_hint`)
        if basic_credentials(request) != (server.client_id, server.client_secret):
            return _oauth_error("invalid_client", "Invalid client credentials", 401)
        form = await request.form()
        server.revoke(str(form.get("token", "")))
        return Response(status_code=200)  # unknown tokens are not an error (RFC 7009)

    return [
        Route("/oauth/authorize", authorize, methods=["GET"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/revoke", revoke, methods=["POST"]),
    ]
