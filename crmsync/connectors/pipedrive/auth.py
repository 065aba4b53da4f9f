"""Pipedrive auth: a company API token, or OAuth tokens that renew.

The API token goes in the ``x-api-token`` header (never the query string, which ends up
in logs). OAuth clients authenticate to ``/oauth/token`` with HTTP Basic.
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.http import ApiKeyAuth, BearerAuth, OAuth2Auth
from crmsync.connectors.http.guard import GuardedTransport
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.http.tokens import local_store
from crmsync.connectors.registry import ConnectorContext, stored_token

__all__ = [
    "API_URL",
    "AUTHORIZE_URL",
    "TOKEN_PATH",
    "authorize_url",
    "build_auth",
    "token_endpoint",
]

API_URL = "https://api.pipedrive.com"
OAUTH_URL = "https://oauth.pipedrive.com"
AUTHORIZE_URL = f"{OAUTH_URL}/oauth/authorize"
TOKEN_PATH = "/oauth/token"  # noqa: S105  (a path, not a secret)


def api_base(context: ConnectorContext) -> str:
    """Where API calls go: the company domain an OAuth grant names, else ``base_url``.

    Only a Pipedrive host is taken from the grant; anything else keeps the integration's
    own (already vetted) base URL.
    """
    domain = str(context.credentials.get("api_domain") or "")
    if not domain or context.credentials.get("api_token"):
        return context.base_url
    url = httpx.URL(domain)
    if url.scheme == "https" and (
        url.host == "pipedrive.com" or url.host.endswith(".pipedrive.com")
    ):
        return f"https://{url.host}"
    return context.base_url


def _oauth_base(base_url: str) -> str:
    # the real OAuth server is its own host; an emulator serves it beside the API
    return OAUTH_URL if base_url.rstrip("/") == API_URL else base_url.rstrip("/")


def authorize_url(
    base_url: str, client_id: str, redirect_uri: str, state: str, code_challenge: str | None
) -> str:
    """Where to send the user to approve the app (Pipedrive takes no PKCE)."""
    query = {"client_id": client_id, "redirect_uri": redirect_uri, "state": state}
    return f"{_oauth_base(base_url)}/oauth/authorize?{urlencode(query)}"


def token_endpoint(
    base_url: str,
    client_id: str | None,
    client_secret: Secret | None,
    *,
    transport: httpx.BaseTransport | None = None,
    verify: bool | str = True,
    timeout: float = 30.0,
) -> TokenEndpoint:
    """The OAuth token endpoint, HTTP Basic client authentication."""
    if not client_id or not client_secret:
        raise ConfigError(
            "Pipedrive OAuth needs CRMSYNC_PIPEDRIVE_CLIENT_ID and CRMSYNC_PIPEDRIVE_CLIENT_SECRET"
        )
    oauth_base = _oauth_base(base_url)
    inner = transport if transport is not None else httpx.HTTPTransport(verify=verify)
    http = httpx.Client(
        transport=GuardedTransport(inner, [httpx.URL(oauth_base).host]),
        timeout=timeout,
        follow_redirects=False,
    )
    return TokenEndpoint(f"{oauth_base}{TOKEN_PATH}", client_id, client_secret, http, "basic")


def build_auth(context: ConnectorContext) -> httpx.Auth:
    """Header auth for an API token, bearer or renewing OAuth for an OAuth grant."""
    credentials = context.credentials
    if credentials.get("api_token"):
        return ApiKeyAuth(str(credentials["api_token"]), name="x-api-token")
    if not credentials.get("access_token"):
        raise ConfigError("Pipedrive credentials need an api_token or an access_token")
    if not credentials.get("refresh_token"):
        return BearerAuth(str(credentials["access_token"]))
    endpoint = token_endpoint(
        context.base_url,
        context.client_id,
        context.client_secret,
        transport=context.transport,
        verify=context.verify,
        timeout=context.http.timeout,
    )
    endpoint.clock = context.clock
    return OAuth2Auth(
        stored_token(context.credentials),
        endpoint,
        store=context.token_store or local_store(context.integration_id),
        on_refresh=context.on_refresh,
        clock=context.clock,
    )
