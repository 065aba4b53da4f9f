"""Total Expert auth: OAuth client credentials, re-requested as each token nears expiry.

Tokens last an hour and come without a refresh token: renewing one is asking again with
the client id and secret (HTTP Basic, JSON body). Renewal happens ahead of expiry and
once on a 401, single-flight through the token store like ``OAuth2Auth``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.http import BearerAuth, TokenSet
from crmsync.connectors.http.oauth import REFRESH_AHEAD
from crmsync.connectors.http.provider_errors import oauth_errors
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.http.tokens import TokenStore, local_store
from crmsync.connectors.registry import ConnectorContext, stored_token
from crmsync.integrations.ssrf import GuardedTransport
from crmsync.integrations.vault import Secret

__all__ = ["API_URL", "TOKEN_LIFETIME", "TOKEN_PATH", "ClientCredentials", "build_auth"]

API_URL = "https://public.totalexpert.net"
TOKEN_PATH = "/v1/token"  # noqa: S105  (a path, not a secret)
TOKEN_LIFETIME = 3600.0


class ClientCredentials(TokenEndpoint):
    """The token endpoint, asked for the client-credentials grant."""

    def issue(self) -> TokenSet:
        """A new access token."""
        return self._post({"grant_type": "client_credentials"}, previous=None)


class ClientCredentialsAuth(httpx.Auth):
    """Bearer auth whose token is re-requested before expiry and once after a 401."""

    requires_response_body = False

    def __init__(
        self,
        endpoint: ClientCredentials,
        token: TokenSet | None = None,
        *,
        store: TokenStore,
        on_refresh: Callable[[TokenSet], None] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._endpoint = endpoint
        self._token = token
        self._store = store
        self._on_refresh = on_refresh
        self._clock = clock

    def _usable(self, token: TokenSet) -> bool:
        return not token.expires_within(REFRESH_AHEAD, self._clock())

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._token
        used = token if token is not None and self._usable(token) else self._renew(token)
        request.headers["Authorization"] = f"Bearer {used.access_token.reveal()}"
        response = yield request
        if response.status_code != 401:
            return
        fresh = self._renew(used)
        request.headers["Authorization"] = f"Bearer {fresh.access_token.reveal()}"
        yield request

    def _renew(self, stale: TokenSet | None) -> TokenSet:
        with self._store.refresh_lock():
            shared = self._store.load()
            # another worker may have renewed while this one waited for the lock
            if (
                shared is not None
                and self._usable(shared)
                and (stale is None or shared.access_token != stale.access_token)
            ):
                self._token = shared
                return shared
            fresh = self._endpoint.issue()
            self._store.save(fresh)
            self._token = fresh
        if self._on_refresh is not None:
            self._on_refresh(fresh)
        return fresh

    def __repr__(self) -> str:
        return "ClientCredentialsAuth(token=****)"


def token_endpoint(
    base_url: str,
    client_id: str,
    client_secret: Secret,
    *,
    transport: httpx.BaseTransport | None = None,
    verify: bool | str = True,
    timeout: float = 30.0,
    clock: Callable[[], float] = time.time,
) -> ClientCredentials:
    """``/v1/token`` on the integration's host: HTTP Basic client auth, JSON body."""
    inner = transport if transport is not None else httpx.HTTPTransport(verify=verify)
    http = httpx.Client(
        transport=GuardedTransport(inner, [httpx.URL(base_url).host]),
        timeout=timeout,
        follow_redirects=False,
    )
    return ClientCredentials(
        f"{base_url.rstrip('/')}{TOKEN_PATH}",
        client_id,
        client_secret,
        http,
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
    token = stored_token(credentials) if credentials.get("access_token") else None
    return ClientCredentialsAuth(
        endpoint,
        token,
        store=context.token_store or local_store(context.integration_id),
        on_refresh=context.on_refresh,
        clock=context.clock,
    )
