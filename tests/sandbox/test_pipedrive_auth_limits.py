"""Pipedrive sandbox: api_token and OAuth (expiry, refresh), burst and daily-budget 429s."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.pipedrive import Sandbox


class Clock:
    """A settable clock for token expiry and the daily budget."""

    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


def _basic(user: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def test_missing_or_wrong_api_token_is_401(serve: Callable[..., Any]) -> None:
    sandbox = Sandbox(SandboxOptions(rate_profile="off"))
    url = serve(sandbox).url("pipedrive")
    for params in ({}, {"api_token": "wrong"}):
        response = httpx.get(url + "/v1/persons", params=params)
        assert response.status_code == 401
        assert response.json()["success"] is False
        assert response.json()["errorCode"] == 401


def test_oauth_code_flow_expiry_and_refresh(serve: Callable[..., Any]) -> None:
    clock = Clock()
    sandbox = Sandbox(SandboxOptions(rate_profile="off"), clock=clock)
    url = serve(sandbox).url("pipedrive")
    client_auth = _basic(sandbox.oauth.client_id, sandbox.oauth.client_secret)
    redirect = "http://127.0.0.1:9/callback"

    authorize = httpx.get(
        url + "/oauth/authorize",
        params={"client_id": sandbox.oauth.client_id, "redirect_uri": redirect, "state": "s1"},
    )
    assert authorize.status_code == 302
    query = parse_qs(urlsplit(authorize.headers["location"]).query)
    assert query["state"] == ["s1"]

    token = httpx.post(
        url + "/oauth/token",
        headers=client_auth,
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": redirect,
        },
    ).json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3599
    assert token["api_domain"] == url
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(url + "/api/v2/persons", headers=bearer).status_code == 200

    clock.now += 3600
    expired = httpx.get(url + "/api/v2/persons", headers=bearer)
    assert expired.status_code == 401
    assert expired.json()["error"] == "unauthorized access"

    refreshed = httpx.post(
        url + "/oauth/token",
        headers=client_auth,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
    ).json()
    assert refreshed["access_token"] != token["access_token"]
    fresh = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert httpx.get(url + "/api/v2/persons", headers=fresh).status_code == 200

    # a code works once; a wrong client secret is refused
    reuse = httpx.post(
        url + "/oauth/token",
        headers=client_auth,
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": redirect,
        },
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    wrong = httpx.post(
        url + "/oauth/token",
        headers=_basic(sandbox.oauth.client_id, "nope"),
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
    )
    assert wrong.status_code == 401


def test_refresh_token_dies_after_60_idle_days(serve: Callable[..., Any]) -> None:
    clock = Clock()
    sandbox = Sandbox(SandboxOptions(rate_profile="off"), clock=clock)
    url = serve(sandbox).url("pipedrive")
    grant = sandbox.oauth.exchange_code(sandbox.oauth.issue_code("http://x/cb"), "http://x/cb")
    assert grant is not None
    clock.now += 61 * 86400
    response = httpx.post(
        url + "/oauth/token",
        headers=_basic(sandbox.oauth.client_id, sandbox.oauth.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": grant.refresh_token},
    )
    assert response.status_code == 400


def test_search_burst_limit_answers_429_with_ratelimit_headers(serve: Callable[..., Any]) -> None:
    sandbox = Sandbox(SandboxOptions(rate_profile="lite"))
    url = serve(sandbox).url("pipedrive")
    params = {"api_token": sandbox.oauth.api_token, "term": "ann"}
    with httpx.Client(base_url=url, params=params) as client:
        answers = [client.get("/v1/persons/search") for _ in range(11)]
        ordinary = client.get("/v1/persons")
    first, last = answers[0], answers[-1]
    assert first.status_code == 200
    assert first.headers["x-ratelimit-limit"] == "10"
    assert first.headers["x-ratelimit-remaining"] == "9"
    assert int(first.headers["x-ratelimit-reset"]) in (1, 2)
    assert last.status_code == 429
    assert last.headers["x-ratelimit-remaining"] == "0"
    assert last.json()["success"] is False
    assert last.json()["errorCode"] == 429
    # the ordinary burst window (20 per 2 s on Lite) is separate from search's
    assert ordinary.status_code == 200
    assert ordinary.headers["x-ratelimit-limit"] == "20"


def test_daily_token_budget_runs_out_and_resets_at_midnight(serve: Callable[..., Any]) -> None:
    clock = Clock()
    clock.now = 1_790_000_000.0 - 1_790_000_000.0 % 86400 + 3600  # 01:00 UTC
    sandbox = Sandbox(SandboxOptions(rate_profile="premium"), clock=clock, daily_budget=45)
    url = serve(sandbox).url("pipedrive")
    with httpx.Client(base_url=url, params={"api_token": sandbox.oauth.api_token}) as client:
        create = client.post("/v1/persons", json={"name": "A"})  # 10 tokens
        listed = client.get("/v1/persons")  # 20 tokens
        v2_list = client.get("/api/v2/persons")  # 10 tokens
        refused = client.get("/v1/persons")  # 20 more would exceed 45
        cheap = client.get("/api/v2/persons/1")  # 1 token still fits
        assert [r.status_code for r in (create, listed, v2_list, refused, cheap)] == [
            201, 200, 200, 429, 200,
        ]  # fmt: skip
        assert create.headers["x-daily-ratelimit-token-remaining"] == "35"
        assert cheap.headers["x-daily-ratelimit-token-remaining"] == "4"
        assert refused.json()["success"] is False
        assert int(refused.headers["retry-after"]) == 23 * 3600
        clock.now += 23 * 3600
        assert client.get("/v1/persons").status_code == 200


def test_plan_budget_formula_and_off_profile(serve: Callable[..., Any]) -> None:
    growth = Sandbox(SandboxOptions(rate_profile="growth-oauth"), seats=3)
    off = Sandbox(SandboxOptions(rate_profile="off"))
    server = serve(growth, off)
    response = httpx.get(
        server.url("pipedrive") + "/v1/users/me", params={"api_token": growth.oauth.api_token}
    )
    assert response.headers["x-daily-ratelimit-token-limit"] == str(30_000 * 2 * 3)
    assert response.headers["x-ratelimit-limit"] == "160"
    plain = httpx.get(
        server.running[1].base_url + "/v1/users/me", params={"api_token": off.oauth.api_token}
    )
    assert "x-ratelimit-limit" not in plain.headers
    assert "x-daily-ratelimit-token-limit" not in plain.headers


def test_injected_faults_answer_in_pipedrive_shape(serve: Callable[..., Any]) -> None:
    sandbox = Sandbox(SandboxOptions(rate_profile="off"))
    url = serve(sandbox).url("pipedrive")
    with httpx.Client(base_url=url, params={"api_token": sandbox.oauth.api_token}) as client:
        client.post("/_sandbox/faults", json={"kind": "503", "count": 1})
        failed = client.get("/v1/persons")
        assert failed.status_code == 503
        assert failed.json()["success"] is False
        assert failed.json()["error_info"].startswith("Please check developers.pipedrive.com")
        client.post("/_sandbox/faults", json={"kind": "429", "count": 1})
        throttled = client.get("/v1/persons")
        assert throttled.status_code == 429
        assert throttled.json()["errorCode"] == 429
        assert int(throttled.headers["retry-after"]) >= 1
        assert client.get("/v1/persons").status_code == 200
