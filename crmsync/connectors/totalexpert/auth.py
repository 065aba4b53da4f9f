"""Total Expert auth: OAuth client credentials, re-requested as each token nears expiry.

Tokens last an hour and come without a refresh token: renewing one is asking again with
the client id and secret (HTTP Basic, JSON body). ``ClientCredentialsAuth`` (the one
client-credentials flow of the HTTP layer, shared with Salesforce) renews ahead of
expiry and once on a 401, single-flight through the token store.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from crmsync.connectors.context import ConnectorContext
from crmsync.connectors.errors import ConfigError
from crmsync.connectors.http import BearerAuth
from crmsync.connectors.http.error_hooks import oauth_errors
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.oauth_app import client_credentials_auth, token_client
from crmsync.connectors.totalexpert.spec import API_URL

__all__ = ["API_URL", "TOKEN_LIFETIME", "TOKEN_PATH", "build_auth", "token_endpoint"]

TOKEN_PATH = "/v1/token"  # noqa: S105  (a path, not a secret)
TOKEN_LIFETIME = 3600.0


def token_endpoint(
    base_url: str,
    client_id: str,
    client_secret: Secret,
    *,
    transport: httpx.BaseTransport | None = None,
    verify: bool | str = True,
    timeout: float = 30.0,
    clock: Callable[[], float] = time.time,
) -> TokenEndpoint:
    """``/v1/token`` on the integration's host: HTTP Basic client auth, JSON body."""
    return TokenEndpoint(
        f"{base_url.rstrip('/')}{TOKEN_PATH}",
        client_id,
        client_secret,
        token_client(base_url, transport, verify, timeout),
        client_auth="basic",
        body_format="json",
        default_lifetime=TOKEN_LIFETIME,
        clock=clock,
        hooks=(oauth_errors,),
    )


def build_auth(context: ConnectorContext) -> httpx.Auth:
    """Renewing client-credentials auth, or a fixed bearer token when that is all there is."""
    credentials = context.credentials
    client_id = str(credentials.get("client_id") or "")
    secret = context.secret("client_secret")
    if not client_id or secret is None:
        if not credentials.get("access_token"):
            raise ConfigError("Total Expert credentials need client_id + client_secret")
        return BearerAuth(str(credentials["access_token"]))
    endpoint = token_endpoint(
        context.base_url,
        client_id,
        secret,
        transport=context.transport,
        verify=context.verify,
        timeout=context.http.timeout,
        clock=context.clock,
    )
    return client_credentials_auth(context, endpoint)
