"""OAuth2 auth flow: refresh ahead of expiry and once on a 401, one refresh at a time."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx

from crmsync.connectors.errors import AuthError
from crmsync.connectors.http.tokens import LocalTokenStore, TokenSet, TokenStore

__all__ = ["REFRESH_AHEAD", "OAuth2Auth", "Refresher"]

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
        token: TokenSet,
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
    def token(self) -> TokenSet:
        """The token set currently in use."""
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        used = self._token
        if used.expires_within(self._ahead, self._clock()):
            used = self._refresh(used)
        request.headers["Authorization"] = f"Bearer {used.access_token.reveal()}"
        response = yield request
        if response.status_code != 401:
            return
        fresh = self._refresh(used, forced=True)
        request.headers["Authorization"] = f"Bearer {fresh.access_token.reveal()}"
        yield request

    def _refresh(self, stale: TokenSet, *, forced: bool = False) -> TokenSet:
        with self._store.refresh_lock():
            shared = self._store.load()
            # another thread or host may have refreshed while we waited for the lock
            if (
                shared is not None
                and shared.access_token != stale.access_token
                and not shared.expires_within(self._ahead, self._clock())
            ):
                self._token = shared
                return shared
            # refresh tokens may rotate: the shared copy holds the newest one
            base = shared if shared is not None else stale
            if base.refresh_token is None:
                reason = "was rejected" if forced else "expired"
                raise AuthError(f"access token {reason} and there is no refresh token; reconnect")
            fresh = self._refresher(base)
            self._store.save(fresh)
            self._token = fresh
        if self._on_refresh is not None:
            self._on_refresh(fresh)
        return fresh

    def __repr__(self) -> str:
        return "OAuth2Auth(token=****)"
