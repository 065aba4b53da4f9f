"""The connector HTTP client: budget, classify, wait on 429, retry transient failures."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from crmsync.connectors.errors import (
    AuthError,
    ConfigError,
    InvalidRecord,
    NotFound,
    RateLimited,
    Transient,
)
from crmsync.connectors.http.client import ConnectorHttp, HttpSettings, build_http
from crmsync.connectors.http.guard import UnsafeURL
from crmsync.connectors.http.ratelimit import Budget, MemoryWindows, RateLimiter, RateProfile
from crmsync.connectors.http.retry import RetryPolicy
from crmsync.connectors.providers import get

from .conftest import FakeClock

Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*responses: httpx.Response | type[Exception]) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with ``responses`` in order (an exception class is raised)."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0)
        if isinstance(item, type):
            raise item("simulated", request=request)  # type: ignore[call-arg]
        return item

    return handler, seen


def make(
    handler: Handler,
    clock: FakeClock,
    *,
    provider: str = "hubspot",
    limiter: RateLimiter | None = None,
    settings: HttpSettings | None = None,
) -> ConnectorHttp:
    return build_http(
        base_url="https://api.hubapi.com",
        provider=provider,
        transport=httpx.MockTransport(handler),
        hooks=get(provider).error_hooks,
        limiter=limiter,
        settings=settings or HttpSettings(retry=RetryPolicy(attempts=3, base=1, cap=4, jitter=0)),
        sleep=clock.sleep,
    )


def test_success_passes_through(clock: FakeClock) -> None:
    handler, seen = scripted(httpx.Response(200, json={"results": []}))
    response = make(handler, clock).get("/crm/v3/objects/contacts", params={"limit": 100})
    assert response.json() == {"results": []}
    assert seen[0].url.params["limit"] == "100"


def test_retry_after_is_honoured_and_not_an_attempt(clock: FakeClock) -> None:
    handler, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "slow"}),
        httpx.Response(429, headers={"Retry-After": "3"}, json={"message": "slow"}),
        httpx.Response(503, json={"message": "down"}),
        httpx.Response(503, json={"message": "down"}),
        httpx.Response(200, json={"ok": True}),
    )
    response = make(handler, clock).get("/x")
    assert response.status_code == 200
    # two provider waits, then two backoffs: the 429s did not use up the 3 attempts
    assert clock.sleeps == [7.0, 3.0, 1.0, 2.0]
    assert len(seen) == 5


def test_retry_after_holds_the_shared_limiter(clock: FakeClock) -> None:
    windows = MemoryWindows()
    prof = RateProfile("t", (Budget(100, 10),))
    limiter = RateLimiter(prof, "i1", windows, clock=clock, sleep=clock.sleep)
    other = RateLimiter(prof, "i1", windows, clock=clock, sleep=clock.sleep)
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": "20"}), httpx.Response(200))
    http = make(handler, clock, limiter=limiter, settings=HttpSettings(max_rate_wait=10))
    with pytest.raises(RateLimited) as caught:
        http.get("/x")  # 20 s is longer than this caller blocks for
    assert caught.value.retry_after == 20
    assert clock.sleeps == []
    assert other.acquire() == pytest.approx(20)  # the other thread/host waits it out


def test_rate_limited_gives_up_after_too_many_waits(clock: FakeClock) -> None:
    handler, seen = scripted(*[httpx.Response(429, headers={"Retry-After": "1"})] * 3)
    http = make(handler, clock, settings=HttpSettings(max_rate_limited=2))
    with pytest.raises(RateLimited):
        http.get("/x")
    assert len(seen) == 3


def test_transient_exhausts_the_policy(clock: FakeClock) -> None:
    handler, seen = scripted(*[httpx.Response(502)] * 3)
    with pytest.raises(Transient):
        make(handler, clock).get("/x")
    assert len(seen) == 3
    assert clock.sleeps == [1.0, 2.0]


def test_timeouts_and_resets_are_transient(clock: FakeClock) -> None:
    handler, seen = scripted(httpx.ReadTimeout, httpx.ConnectError, httpx.Response(200))
    assert make(handler, clock).get("/x").status_code == 200
    assert len(seen) == 3


def test_timeout_error_does_not_carry_the_url(clock: FakeClock) -> None:
    handler, _ = scripted(*[httpx.ReadTimeout] * 3)
    with pytest.raises(Transient) as caught:
        make(handler, clock).get("/x?api_token=sekret")
    assert "sekret" not in str(caught.value)
    assert caught.value.code == "TIMEOUT"


def test_post_is_not_retried_unless_idempotent(clock: FakeClock) -> None:
    handler, seen = scripted(httpx.Response(500), httpx.Response(500), httpx.Response(201))
    http = make(handler, clock)
    with pytest.raises(Transient):
        http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": []})
    assert len(seen) == 1
    response = http.post(
        "/crm/v3/objects/contacts/batch/upsert", json={"inputs": []}, idempotent=True
    )
    assert response.status_code == 201
    assert len(seen) == 3


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"category": "VALIDATION_ERROR", "message": "bad"}, InvalidRecord),
        (401, {"category": "INVALID_AUTHENTICATION", "message": "x"}, AuthError),
        (404, {"category": "OBJECT_NOT_FOUND", "message": "x"}, NotFound),
        (403, {"category": "MISSING_SCOPES", "message": "x"}, AuthError),
    ],
)
def test_final_errors_raise_without_retry(
    clock: FakeClock, status: int, body: dict[str, str], expected: type[Exception]
) -> None:
    handler, seen = scripted(httpx.Response(status, json=body))
    with pytest.raises(expected):
        make(handler, clock).get("/x")
    assert len(seen) == 1


def test_limiter_is_spent_per_call_with_its_cost(clock: FakeClock) -> None:
    limiter = RateLimiter(RateProfile("pd", (Budget(20, 2),)), "i1", clock=clock, sleep=clock.sleep)
    handler, _ = scripted(*[httpx.Response(200)] * 5)
    http = make(handler, clock, provider="pipedrive", limiter=limiter)
    for _ in range(5):
        http.post("/v1/persons", json={}, cost=10)
    # 20 tokens per 2 s at 10 a call: two calls per window
    assert clock.sleeps == [2.0, 2.0]


def test_redirect_to_another_host_is_refused(clock: FakeClock) -> None:
    handler, _ = scripted(httpx.Response(302, headers={"Location": "http://169.254.169.254/"}))
    with pytest.raises(UnsafeURL, match="redirect"):
        make(handler, clock).get("/x")


def test_only_the_integrations_hosts_are_reachable(clock: FakeClock) -> None:
    handler, seen = scripted(httpx.Response(200))
    with pytest.raises(ConfigError):
        make(handler, clock).get("https://internal.example/admin")
    assert seen == []


def test_same_host_redirect_is_returned_as_an_error_not_followed(clock: FakeClock) -> None:
    handler, seen = scripted(httpx.Response(301, headers={"Location": "/elsewhere"}))
    with pytest.raises(ConfigError):
        make(handler, clock).get("/x")
    assert len(seen) == 1
