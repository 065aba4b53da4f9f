"""Token endpoint grants in each provider's dialect."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from crmsync.connectors.errors import AuthError, ConfigError, Transient
from crmsync.connectors.http.client import ConnectorHttp, HttpSettings
from crmsync.connectors.http.oauth import OAuth2Auth
from crmsync.connectors.http.retry import RetryPolicy
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.http.tokens import TokenSet

from .conftest import FakeClock


class TokenServer:
    def __init__(self, *answers: httpx.Response):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)


def _endpoint(server: TokenServer, clock: FakeClock, **kwargs: object) -> TokenEndpoint:
    http = httpx.Client(transport=httpx.MockTransport(server))
    return TokenEndpoint(
        url="https://auth.example.com/token",
        client_id="cid",
        client_secret=Secret("csecret"),
        http=http,
        clock=clock,
        **kwargs,  # type: ignore[arg-type]
    )


OLD = TokenSet(Secret("a0"), Secret("r0"), None, {"instance_url": "https://x.my.salesforce.com"})


def test_form_body_grant_with_client_credentials_in_body(clock: FakeClock) -> None:
    server = TokenServer(
        httpx.Response(200, json={"access_token": "a1", "refresh_token": "r1", "expires_in": 1800})
    )
    fresh = _endpoint(server, clock)(OLD)
    form = dict(httpx.QueryParams(server.requests[0].content.decode()))
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": "r0",
        "client_id": "cid",
        "client_secret": "csecret",
    }
    assert fresh.access_token.reveal() == "a1"
    assert fresh.refresh_token == Secret("r1")
    assert fresh.expires_at == clock() + 1800
    assert fresh.extras["instance_url"] == "https://x.my.salesforce.com"


def test_basic_auth_and_json_body_total_expert_style(clock: FakeClock) -> None:
    server = TokenServer(
        httpx.Response(200, json={"access_token": "a1", "expires_in": 3600, "token_type": "bearer"})
    )
    fresh = _endpoint(server, clock, client_auth="basic", body_format="json")(OLD)
    request = server.requests[0]
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"cid:csecret").decode()
    assert json.loads(request.content) == {"grant_type": "refresh_token", "refresh_token": "r0"}
    # no new refresh token in the answer: the old one stays
    assert fresh.refresh_token == Secret("r0")


def test_no_expiry_salesforce_style(clock: FakeClock) -> None:
    server = TokenServer(
        httpx.Response(
            200,
            json={
                "access_token": "a1",
                "instance_url": "https://y.my.salesforce.com",
                "issued_at": "1700000000000",
            },
        )
    )
    fresh = _endpoint(server, clock)(OLD)
    assert fresh.expires_at is None  # refreshed on 401 only
    assert fresh.extras["instance_url"] == "https://y.my.salesforce.com"


def test_code_exchange_with_pkce(clock: FakeClock) -> None:
    server = TokenServer(
        httpx.Response(200, json={"access_token": "a1", "refresh_token": "r1", "expires_in": 60})
    )
    _endpoint(server, clock).exchange_code("the-code", "https://app/cb", code_verifier="v" * 43)
    form = dict(httpx.QueryParams(server.requests[0].content.decode()))
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["code_verifier"] == "v" * 43


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            httpx.Response(400, json={"error": "invalid_grant", "error_description": "expired"}),
            AuthError,
        ),
        (httpx.Response(401, json={"error": "invalid_client"}), AuthError),
        (httpx.Response(503, text="busy"), Transient),
        (httpx.Response(200, json={"token_type": "bearer"}), ConfigError),
    ],
)
def test_failures(clock: FakeClock, answer: httpx.Response, expected: type[Exception]) -> None:
    with pytest.raises(expected):
        _endpoint(TokenServer(answer), clock)(OLD)


def test_refresh_failure_inside_a_call_is_classified_and_retried(clock: FakeClock) -> None:
    server = TokenServer(
        httpx.Response(503, text="busy"),
        httpx.Response(200, json={"access_token": "a1", "expires_in": 1800}),
    )
    auth = OAuth2Auth(
        TokenSet(Secret("a0"), Secret("r0"), clock() + 10), _endpoint(server, clock), clock=clock
    )
    api = httpx.Client(
        base_url="https://api.example.com",
        auth=auth,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"ok": True})),
    )
    http = ConnectorHttp(api, settings=HttpSettings(retry=RetryPolicy(jitter=0)), sleep=clock.sleep)
    assert http.get("/x").json() == {"ok": True}
    assert len(server.requests) == 2
    assert clock.sleeps == [1.0]
