"""OAuth2 auth flows: refresh ahead of expiry and once on a 401, one refresh at a time.

``OAuth2Auth`` renews with the refresh token (authorization-code grants);
``ClientCredentialsAuth`` renews by asking again with the client id and secret (the
client-credentials grant has no refresh token). Both keep the same guarantees: renewal
ahead of a stated expiry, once on a 401, single-flight through the shared token store,
and every new token handed to ``on_refresh`` to be sealed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx

from crmsync.connectors.errors import AuthError
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.http.tokens import LocalTokenStore, TokenSet, TokenStore

__all__ = ["REFRESH_AHEAD", "ClientCredentialsAuth", "OAuth2Auth", "Refresher"]

# Refresh this many seconds before the provider's stated expiry.
REFRESH_AHEAD = 300.0

Refresher = Callable[[TokenSet], TokenSet]
"""Exchanges a token set's refresh token for a new token set (``TokenEndpoint``)."""


class OAuth2Auth(httpx.Auth):
    """Bearer auth with an access token that renews itself.

    Renewal happens ``REFRESH_AHEAD`` seconds before expiry, and once when the provider
    answers 401 (the request is then retried once; a second 401 goes back to the caller,
    whose classification makes it an ``AuthError``). Refreshes are single-flight through
    the ``store``: whoever holds its lock refreshes, everyone else picks up the result.
    ``on_refresh`` persists a new token set (encrypted, by the integrations service).
    """

    requires_response_body = False

    def __init__(
        self,
        token: TokenSet | None,
        refresher: Refresher,
        *,
        store: TokenStore | None = None,
        on_refresh: Callable[[TokenSet], None] | None = None,
        clock: Callable[[], float] = time.time,
        refresh_ahead: float = REFRESH_AHEAD,
    ):
        self._token = token
        self._refresher = refresher
        self._store: TokenStore = store if store is not None else LocalTokenStore()
        self._on_refresh = on_refresh
        self._clock = clock
        self._ahead = refresh_ahead

    @property
    def token(self) -> TokenSet | None:
        """The token set currently in use (``None`` before the first one is obtained)."""
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        used = self._token
        if used is None or used.expires_within(self._ahead, self._clock()):
            used = self._refresh(used)
        request.headers["Authorization"] = f"Bearer {used.access_token.reveal()}"
        response = yield request
        if response.status_code != 401:
            return
        fresh = self._refresh(used, forced=True)
        request.headers["Authorization"] = f"Bearer {fresh.access_token.reveal()}"
        yield request

    def _refresh(self, stale: TokenSet | None, *, forced: bool = False) -> TokenSet:
        with self._store.refresh_lock():
            shared = self._store.load()
            # another thread or host may have refreshed while we waited for the lock
            if (
                shared is not None
                and (stale is None or shared.access_token != stale.access_token)
                and not shared.expires_within(self._ahead, self._clock())
            ):
                self._token = shared
                return shared
            # refresh tokens may rotate: the shared copy holds the newest one
            fresh = self._renew(shared if shared is not None else stale, forced=forced)
            self._store.save(fresh)
            self._token = fresh
        if self._on_refresh is not None:
            self._on_refresh(fresh)
        return fresh

    def _renew(self, base: TokenSet | None, *, forced: bool) -> TokenSet:
        """A new token set from the provider (the caller holds the refresh lock)."""
        if base is None or base.refresh_token is None:
            reason = "was rejected" if forced else "expired"
            raise AuthError(f"access token {reason} and there is no refresh token; reconnect")
        return self._refresher(base)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(token=****)"


class ClientCredentialsAuth(OAuth2Auth):
    """Bearer auth whose token comes from ``grant_type=client_credentials``.

    There is no refresh token: a token that expires (or is refused with a 401) is
    replaced by asking the token endpoint again with the client id and secret. A token
    answer without ``expires_in`` (Salesforce) is renewed on its first 401 only.
    """

    def __init__(
        self,
        endpoint: TokenEndpoint,
        token: TokenSet | None = None,
        *,
        store: TokenStore | None = None,
        on_refresh: Callable[[TokenSet], None] | None = None,
        clock: Callable[[], float] = time.time,
        refresh_ahead: float = REFRESH_AHEAD,
    ):
        super().__init__(
            token,
            endpoint,
            store=store,
            on_refresh=on_refresh,
            clock=clock,
            refresh_ahead=refresh_ahead,
        )
        self.endpoint = endpoint

    def _renew(self, base: TokenSet | None, *, forced: bool) -> TokenSet:
        return self.endpoint.client_credentials(previous=base)
