"""Salesforce auth: the OAuth web-server flow (with PKCE), sessions that renew on 401,
and a connected app signing in with client credentials.

The consent page and the token endpoint live on the login host the integration names:
``login.salesforce.com`` (production), ``test.salesforce.com`` (sandboxes) or the org's
My Domain. Salesforce's token answer has no ``expires_in``: a session ends after the
org's timeout and the API then answers 401 ``INVALID_SESSION_ID``. ``OAuth2Auth``
refreshes once on that 401 and retries; a second 401 (or a refresh answered
``invalid_grant``, a revoked grant) is an ``AuthError``. The answer's ``instance_url``
says where the org's API is; ``InstanceAuth`` sends every call there.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.http import BearerAuth, OAuth2Auth
from crmsync.connectors.http.guard import GuardedTransport
from crmsync.connectors.http.oauth import ClientCredentialsAuth
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.http.tokens import local_store
from crmsync.connectors.registry import ConnectorContext, stored_token
from crmsync.connectors.salesforce.instance import LOGIN_HOSTS, InstanceAuth, instance_url

__all__ = [
    "AUTHORIZE_PATH",
    "LOGIN_HOSTS",
    "LOGIN_URL",
    "SCOPES",
    "TOKEN_PATH",
    "authorize_url",
    "build_auth",
    "instance_url",
    "oauth_token_endpoint",
    "token_endpoint",
    "transport",
]

LOGIN_URL = "https://login.salesforce.com"
AUTHORIZE_PATH = "/services/oauth2/authorize"
TOKEN_PATH = "/services/oauth2/token"  # noqa: S105  (a path, not a secret)
# "refresh_token" is what makes the token answer carry a refresh token
SCOPES = ("api", "refresh_token")


def transport(context: ConnectorContext) -> httpx.BaseTransport:
    """The injected transport, or TLS that trusts ``context.verify`` (a CA file path)."""
    return _transport(context.transport, context.verify)


def _transport(given: httpx.BaseTransport | None, verify: bool | str) -> httpx.BaseTransport:
    if given is not None:
        return given
    if isinstance(verify, str):
        return httpx.HTTPTransport(verify=ssl.create_default_context(cafile=verify))
    return httpx.HTTPTransport(verify=verify)


def authorize_url(
    base_url: str, client_id: str, redirect_uri: str, state: str, code_challenge: str | None
) -> str:
    """The consent page on the integration's login host (login, test or My Domain)."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
    }
    if code_challenge:
        query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    return f"{base_url.rstrip('/')}{AUTHORIZE_PATH}?{urlencode(query)}"


def oauth_token_endpoint(
    base_url: str,
    client_id: str | None,
    client_secret: Secret | None,
    *,
    transport: httpx.BaseTransport | None = None,
    verify: bool | str = True,
    timeout: float = 30.0,
    clock: Callable[[], float] = time.time,
) -> TokenEndpoint:
    """``/services/oauth2/token`` on the login host; client id and secret in the form."""
    if not client_id or client_secret is None:
        raise ConfigError(
            "Salesforce OAuth needs CRMSYNC_SALESFORCE_CLIENT_ID and "
            "CRMSYNC_SALESFORCE_CLIENT_SECRET (or the connected app's client_id and "
            "client_secret in the credentials)"
        )
    base = base_url.rstrip("/")
    http = httpx.Client(
        transport=GuardedTransport(_transport(transport, verify), [httpx.URL(base).host]),
        timeout=timeout,
        follow_redirects=False,
    )
    return TokenEndpoint(f"{base}{TOKEN_PATH}", str(client_id), client_secret, http, clock=clock)


def token_endpoint(context: ConnectorContext) -> TokenEndpoint:
    """The token endpoint on the integration's base URL (login host or My Domain)."""
    # an integration's own connected app comes first, then the deployment's
    client_id = context.credentials.get("client_id") or context.client_id
    secret = context.secret("client_secret") or context.client_secret
    return oauth_token_endpoint(
        context.base_url,
        str(client_id) if client_id else None,
        secret,
        transport=context.transport,
        verify=context.verify,
        timeout=context.http.timeout,
        clock=context.clock,
    )


def build_auth(context: ConnectorContext) -> httpx.Auth:
    """Renewing OAuth when there is a refresh token; client-credentials sign-in when the
    credentials are a connected app's id and secret; a bare session token otherwise."""
    credentials = context.credentials
    store = context.token_store or local_store(context.integration_id)
    token = stored_token(credentials) if credentials.get("access_token") else None
    oauth: OAuth2Auth
    if token is not None and token.refresh_token is not None:
        oauth = OAuth2Auth(
            token,
            token_endpoint(context),
            store=store,
            on_refresh=context.on_refresh,
            clock=context.clock,
        )
    elif credentials.get("client_id") and context.secret("client_secret") is not None:
        oauth = ClientCredentialsAuth(
            token_endpoint(context),
            token,
            store=store,
            on_refresh=context.on_refresh,
            clock=context.clock,
        )
    elif token is not None:
        return BearerAuth(token.access_token)
    else:
        raise ConfigError(
            "Salesforce credentials need an access_token (connect through the OAuth flow) "
            "or a connected app's client_id and client_secret"
        )
    # a token answer may name another instance: follow it (connectors.salesforce.instance)
    return InstanceAuth(oauth, instance_url(context), context.base_url)
