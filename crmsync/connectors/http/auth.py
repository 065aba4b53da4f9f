"""Static-credential auth flows: bearer tokens and API keys (header or query)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Literal

import httpx

from crmsync.connectors.http.secret import Secret

__all__ = ["ApiKeyAuth", "BearerAuth"]


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` for private-app and static tokens."""

    def __init__(self, token: str | Secret):
        self._token = Secret.of(token)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=****)"


class ApiKeyAuth(httpx.Auth):
    """An API key or token sent in a header (``x-api-token``) or a query parameter."""

    def __init__(
        self,
        key: str | Secret,
        *,
        name: str = "x-api-token",
        location: Literal["header", "query"] = "header",
    ):
        self._key = Secret.of(key)
        self._name = name
        self._location = location

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._location == "header":
            request.headers[self._name] = self._key.reveal()
        else:
            request.url = request.url.copy_merge_params({self._name: self._key.reveal()})
        yield request

    def __repr__(self) -> str:
        return f"ApiKeyAuth(name={self._name!r}, location={self._location!r}, key=****)"
