"""OAuth 2.0 endpoints: the web-server flow (authorize -> code -> token), refresh,
client credentials and revoke, under ``/services/oauth2/``.

There is no login page: authorize approves at once for the org's API user and
redirects with the code, as a user who already granted access would see. Token
answers carry ``instance_url``, ``id``, ``issued_at`` (ms, as a string) and
``signature`` and, as in Salesforce, no ``expires_in``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from crmsync.sandbox.base import json_response
from crmsync.sandbox.salesforce.org import Org
from crmsync.sandbox.salesforce.tokens import ConnectedApp, pkce_matches, signature

PREFIX = "/services/oauth2"


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status=status)


def instance_url(request: Request) -> str:
    """The scheme, host and port the client reached the org on."""
    return f"{request.url.scheme}://{request.url.netloc}"


def oauth_routes(org: Org) -> list[Route]:
    """Routes of the OAuth endpoints bound to `org`."""
    tokens = org.tokens

    def app_for(client_id: str | None, secret: str | None, need_secret: bool) -> ConnectedApp:
        app = tokens.apps.get(client_id or "")
        if app is None:
            raise _Refused("invalid_client_id", "client identifier invalid")
        if (secret is not None or need_secret) and secret != app.client_secret:
            raise _Refused("invalid_client", "invalid client credentials")
        return app

    def answer(request: Request, app: ConnectedApp, scope: str, refresh: bool) -> Response:
        base = org.instance_url or instance_url(request)
        access, refresh_token = tokens.new_session(app.client_id, refresh)
        issued_at = str(int(org.clock().timestamp() * 1000))
        identity = f"{base}/id/{org.org_id}/{org.api_user}"
        body: dict[str, Any] = {"access_token": access}
        if refresh_token:
            body["refresh_token"] = refresh_token
        body.update(
            {
                "signature": signature(app.client_secret, identity, issued_at),
                "scope": scope,
                "instance_url": base,
                "id": identity,
                "token_type": "Bearer",
                "issued_at": issued_at,
            }
        )
        return json_response(body)

    async def authorize(request: Request) -> Response:
        params = request.query_params
        app = tokens.apps.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri")
        if app is None or not redirect_uri:
            return oauth_error("invalid_client_id", "client identifier invalid")
        reply: dict[str, str] = {}
        if params.get("response_type") != "code":
            reply = {
                "error": "unsupported_response_type",
                "error_description": "response type not supported",
            }
        else:
            reply = {
                "code": tokens.issue_code(
                    app.client_id,
                    redirect_uri,
                    params.get("scope", "api refresh_token"),
                    params.get("code_challenge"),
                )
            }
        if "state" in params:
            reply["state"] = params["state"]
        joiner = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(redirect_uri + joiner + urlencode(reply), status_code=302)

    async def token(request: Request) -> Response:
        form = await request.form()
        fields = {k: str(v) for k, v in form.items()}
        # Salesforce also accepts the parameters in the query string.
        fields = {**dict(request.query_params), **fields}
        grant = fields.get("grant_type")
        try:
            if grant == "authorization_code":
                return code_grant(request, fields)
            if grant == "refresh_token":
                return refresh_grant(request, fields)
            if grant == "client_credentials":
                app = app_for(fields.get("client_id"), fields.get("client_secret"), True)
                return answer(request, app, "api", refresh=False)
        except _Refused as refused:
            return oauth_error(refused.error, refused.description)
        return oauth_error("unsupported_grant_type", "grant type not supported")

    def code_grant(request: Request, fields: dict[str, str]) -> Response:
        grant = tokens.take_code(fields.get("code", ""))
        if grant is None:
            raise _Refused("invalid_grant", "invalid authorization code")
        app = app_for(
            fields.get("client_id"), fields.get("client_secret"), grant.code_challenge is None
        )
        if app.client_id != grant.client_id:
            raise _Refused("invalid_grant", "invalid authorization code")
        if fields.get("redirect_uri") != grant.redirect_uri:
            raise _Refused("redirect_uri_mismatch", "redirect_uri must match configuration")
        if grant.code_challenge is not None:
            verifier = fields.get("code_verifier")
            if not verifier:
                raise _Refused("invalid_grant", "invalid code verifier")
            if not pkce_matches(grant.code_challenge, verifier):
                raise _Refused("invalid_grant", "invalid code verifier")
        return answer(
            request,
            app,
            grant.scope,
            refresh="refresh_token" in grant.scope.split() or "full" in grant.scope.split(),
        )

    def refresh_grant(request: Request, fields: dict[str, str]) -> Response:
        owner = tokens.refresh_client(fields.get("refresh_token", ""))
        if owner is None:
            raise _Refused("invalid_grant", "expired access/refresh token")
        app = app_for(fields.get("client_id"), fields.get("client_secret"), False)
        if app.client_id != owner:
            raise _Refused("invalid_grant", "expired access/refresh token")
        return answer(request, app, "api refresh_token", refresh=False)

    async def revoke(request: Request) -> Response:
        form = await request.form()
        value = str(form.get("token") or request.query_params.get("token", ""))
        if not tokens.revoke(value):
            return oauth_error("invalid_token", "invalid token")
        return Response(status_code=200)

    return [
        Route(PREFIX + "/authorize", authorize, methods=["GET", "POST"]),
        Route(PREFIX + "/token", token, methods=["POST"]),
        Route(PREFIX + "/revoke", revoke, methods=["GET", "POST"]),
    ]


class _Refused(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
