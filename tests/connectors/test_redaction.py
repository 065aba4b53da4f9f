"""Request logs never contain a secret, whatever carries it."""

from __future__ import annotations

import httpx
import pytest
from structlog.testing import capture_logs

from crmsync.connectors.http.auth import ApiKeyAuth, BearerAuth
from crmsync.connectors.http.client import HttpSettings, build_http
from crmsync.connectors.http.redaction import (
    REDACTED,
    is_secret_name,
    redact_body,
    redact_headers,
    redact_url,
)
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.http.tokens import TokenSet

SECRETS = [
    "pat-na1-SECRETBEARER",
    "pd-API-TOKEN-777",
    "REFRESH-TOKEN-XYZ",
    "CLIENT-SECRET-42",
    "NEW-ACCESS-TOKEN-9",
]


def _token_server(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/oauth/v1/token":
        return httpx.Response(
            200,
            json={
                "access_token": "NEW-ACCESS-TOKEN-9",
                "refresh_token": "REFRESH-TOKEN-XYZ",
                "expires_in": 1800,
            },
        )
    return httpx.Response(
        400,
        json={
            "message": "bad",
            "echo": {"api_key": "pd-API-TOKEN-777"},
            "note": "Bearer pat-na1-SECRETBEARER",
        },
    )


@pytest.mark.parametrize("log_bodies", [False, True])
def test_no_secret_reaches_the_logs(log_bodies: bool) -> None:
    settings = HttpSettings(log_bodies=log_bodies)
    transport = httpx.MockTransport(_token_server)
    with capture_logs() as logs:
        bearer = build_http(
            base_url="https://api.hubapi.com",
            provider="hubspot",
            auth=BearerAuth("pat-na1-SECRETBEARER"),
            transport=transport,
            settings=settings,
        )
        keyed = build_http(
            base_url="https://api.pipedrive.com",
            provider="pipedrive",
            auth=ApiKeyAuth("pd-API-TOKEN-777", name="api_token", location="query"),
            transport=transport,
            settings=settings,
        )
        for http in (bearer, keyed):
            try:
                http.post("/v1/persons", json={"name": "Ada", "password": "pw-CLIENT-SECRET-42"})
            except Exception as exc:
                assert not any(s in str(exc) for s in SECRETS)
        token_http = build_http(
            base_url="https://api.hubapi.com",
            provider="hubspot",
            transport=transport,
            settings=settings,
        )
        endpoint = TokenEndpoint(
            url="/oauth/v1/token",
            client_id="cid",
            client_secret=Secret("CLIENT-SECRET-42"),
            http=token_http.client,
        )
        fresh = endpoint(TokenSet(Secret("old"), Secret("REFRESH-TOKEN-XYZ")))
    assert fresh.access_token.reveal() == "NEW-ACCESS-TOKEN-9"
    assert logs, "requests were logged"
    rendered = repr(logs)
    for secret in SECRETS:
        assert secret not in rendered
    if log_bodies:
        assert "Ada" in rendered  # bodies are there, only their secrets are gone
        assert REDACTED in rendered


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("x-api-token", True),
        ("api_token", True),
        ("hapikey", True),
        ("client_secret", True),
        ("refresh_token", True),
        ("code", True),
        ("X-HubSpot-Signature", True),
        ("email", False),
        ("limit", False),
        ("after", False),
        ("properties", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_redact_url_keeps_ordinary_params() -> None:
    url = redact_url("https://u:p@api.pipedrive.com/v1/persons?api_token=abc&start=50")
    assert "abc" not in url and "u:p" not in url
    assert "start=50" in url


def test_redact_headers() -> None:
    cleaned = redact_headers({"Authorization": "Bearer x", "Content-Type": "application/json"})
    assert cleaned == {"Authorization": REDACTED, "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "content_type", "hidden", "kept"),
    [
        (
            b'{"inputs":[{"properties":{"email":"a@b.c"}}],"access_token":"T1"}',
            "application/json",
            "T1",
            "a@b.c",
        ),
        (
            b"grant_type=refresh_token&refresh_token=T2&client_id=cid",
            "application/x-www-form-urlencoded",
            "T2",
            "cid",
        ),
        (b"note: Bearer T3 was sent", "text/plain", "T3", "note"),
        (b'[{"secret":"T4","id":1}]', "application/json", "T4", '"id": 1'),
    ],
)
def test_redact_body(body: bytes, content_type: str, hidden: str, kept: str) -> None:
    rendered = redact_body(body, content_type)
    assert hidden not in rendered
    assert kept in rendered
