"""HubSpot auth: private-app tokens, OAuth tokens that renew, and the OAuth app's URLs.

A credentials mapping with a ``refresh_token`` came from the OAuth flow and renews itself
through ``/oauth/v1/token``; one with only an ``access_token`` is a private-app token.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import httpx

from crmsync.connectors.errors import AuthError, ConfigError, ConnectorError, error_message
from crmsync.connectors.http import BearerAuth, OAuth2Auth
from crmsync.connectors.http.guard import GuardedTransport
from crmsync.connectors.http.provider_errors import oauth_errors
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.http.tokens import local_store
from crmsync.connectors.registry import ConnectorContext, stored_token

__all__ = [
    "API_URL",
    "AUTHORIZE_URL",
    "SCOPES",
    "TOKEN_PATH",
    "authorize_url",
    "build_auth",
    "oauth_refusals",
    "token_endpoint",
]

API_URL = "https://api.hubapi.com"
AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
TOKEN_PATH = "/oauth/v1/token"  # noqa: S105  (a path, not a secret)
SCOPES = (
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.schemas.contacts.read",
    "tickets",
)


def authorize_url(
    base_url: str, client_id: str, redirect_uri: str, state: str, code_challenge: str | None
) -> str:
    """Where to send the user to approve the app.

    The real API's consent page lives on app.hubspot.com; an emulator serves its own.
    """
    page = AUTHORIZE_URL if base_url.rstrip("/") == API_URL else f"{base_url}/oauth/authorize"
    query = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
    }
    if code_challenge:
        query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    return f"{page}?{urlencode(query)}"


# HubSpot's token endpoint names its refusals in "status", not RFC 6749's "error"
_REFUSALS = frozenset(
    {
        "BAD_REFRESH_TOKEN",
        "BAD_AUTH_CODE",
        "BAD_CLIENT_ID",
        "BAD_CLIENT_SECRET",
        "BAD_REDIRECT_URI",
        "BAD_GRANT_TYPE",
    }
)


def oauth_refusals(response: httpx.Response) -> ConnectorError | None:
    """A refused grant from HubSpot's token endpoint is an ``AuthError`` (re-authorize)."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    status = body.get("status") if isinstance(body, dict) else None
    if status in _REFUSALS:
        return AuthError(error_message(response), status=response.status_code, code=status)
    return None


def token_endpoint(
    base_url: str,
    client_id: str | None,
    client_secret: Secret | None,
    *,
    transport: httpx.BaseTransport | None = None,
    verify: bool | str = True,
    timeout: float = 30.0,
    clock: Callable[[], float] | None = None,
) -> TokenEndpoint:
    """The OAuth token endpoint on the integration's own host."""
    if not client_id or not client_secret:
        raise ConfigError(
            "HubSpot OAuth needs CRMSYNC_HUBSPOT_CLIENT_ID and CRMSYNC_HUBSPOT_CLIENT_SECRET"
        )
    inner = transport if transport is not None else httpx.HTTPTransport(verify=verify)
    http = httpx.Client(
        transport=GuardedTransport(inner, [httpx.URL(base_url).host]),
        timeout=timeout,
        follow_redirects=False,
    )
    endpoint = TokenEndpoint(
        f"{base_url}{TOKEN_PATH}",
        client_id,
        client_secret,
        http,
        hooks=(oauth_refusals, oauth_errors),
    )
    if clock is not None:
        endpoint.clock = clock
    return endpoint


def build_auth(context: ConnectorContext) -> httpx.Auth:
    """Bearer auth for a private-app token, or renewing OAuth for an OAuth grant."""
    if not context.credentials.get("access_token"):
        raise ConfigError("HubSpot credentials need an access_token")
    if not context.credentials.get("refresh_token"):
        return BearerAuth(str(context.credentials["access_token"]))
    endpoint = token_endpoint(
        context.base_url,
        context.client_id,
        context.client_secret,
        transport=context.transport,
        verify=context.verify,
        timeout=context.http.timeout,
        clock=context.clock,
    )
    store = context.token_store or local_store(context.integration_id)
    return OAuth2Auth(
        stored_token(context.credentials),
        endpoint,
        store=store,
        on_refresh=context.on_refresh,
        clock=context.clock,
    )
