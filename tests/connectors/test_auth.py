"""Static auth flows put the credential where the provider expects it."""

from __future__ import annotations

import httpx

from crmsync.connectors.http.auth import ApiKeyAuth, BearerAuth
from crmsync.connectors.http.secret import Secret


def _echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"headers": dict(request.headers), "url": str(request.url)})


def _send(auth: httpx.Auth, url: str = "https://api.example.com/v1/persons?start=0") -> dict:
    with httpx.Client(transport=httpx.MockTransport(_echo), auth=auth) as client:
        return client.get(url).json()


def test_bearer_sets_authorization() -> None:
    seen = _send(BearerAuth("pat-na1-abc"))
    assert seen["headers"]["authorization"] == "Bearer pat-na1-abc"


def test_api_key_in_a_header() -> None:
    seen = _send(ApiKeyAuth(Secret("tok123"), name="x-api-token"))
    assert seen["headers"]["x-api-token"] == "tok123"
    assert "tok123" not in seen["url"]


def test_api_key_in_the_query_keeps_other_params() -> None:
    seen = _send(ApiKeyAuth("tok123", name="api_token", location="query"))
    url = httpx.URL(seen["url"])
    assert url.params["api_token"] == "tok123"
    assert url.params["start"] == "0"
    assert "x-api-token" not in seen["headers"]


def test_reprs_hide_the_credential() -> None:
    assert "abc" not in repr(BearerAuth("pat-na1-abc"))
    assert "tok123" not in repr(ApiKeyAuth("tok123"))
