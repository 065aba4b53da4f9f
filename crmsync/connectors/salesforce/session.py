"""Client-credentials sessions: a connected app signing in as its run-as user.

The client-credentials grant has no refresh token: when the session ends (401
``INVALID_SESSION_ID``), a new one is simply asked for with the same client id and
secret. Like ``OAuth2Auth``, this happens once per call and one thread at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Generator

import httpx

from crmsync.connectors.errors import classify
from crmsync.connectors.http.provider_errors import oauth_errors
from crmsync.integrations.vault import Secret

__all__ = ["ClientCredentialsAuth"]


class ClientCredentialsAuth(httpx.Auth):
    """Bearer auth whose session comes from ``grant_type=client_credentials``."""

    requires_response_body = False

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: Secret,
        http: httpx.Client,
    ):
        self._url = token_url
        self._client_id = client_id
        self._secret = client_secret
        self._http = http
        self._session: Secret | None = None
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        used = self._session or self._sign_in(None)
        request.headers["Authorization"] = f"Bearer {used.reveal()}"
        response = yield request
        if response.status_code != 401:
            return
        fresh = self._sign_in(used)
        request.headers["Authorization"] = f"Bearer {fresh.reveal()}"
        yield request

    def _sign_in(self, stale: Secret | None) -> Secret:
        with self._lock:
            # another thread may have signed in while this one waited
            if self._session is not None and self._session != stale:
                return self._session
            form = {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._secret.reveal(),
            }
            response = self._http.post(self._url, data=form, headers={"Accept": "application/json"})
            error = classify(response, (oauth_errors,))
            if error is not None:
                raise error
            self._session = Secret(str(response.json()["access_token"]))
            return self._session

    def __repr__(self) -> str:
        return "ClientCredentialsAuth(session=****)"
