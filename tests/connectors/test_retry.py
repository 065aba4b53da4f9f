"""Retry policy values and reading the provider's requested wait."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
import pytest

from crmsync.connectors.http.retry import RetryPolicy, retry_after_seconds


def test_backoff_doubles_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(attempts=6, base=1.0, cap=8.0, jitter=0.0)
    assert [policy.delay(n) for n in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_stays_within_its_share() -> None:
    policy = RetryPolicy(base=2.0, cap=16.0, jitter=0.5)
    rng = random.Random(7)
    delays = [policy.delay(1, rng) for _ in range(200)]
    assert all(4.0 <= d <= 6.0 for d in delays)
    assert len(set(delays)) > 100


def test_attempts_count_the_first_try() -> None:
    policy = RetryPolicy(attempts=3)
    assert [policy.allows(n) for n in (1, 2, 3, 4)] == [True, True, True, False]


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"base": -1}, {"jitter": 2}])
def test_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def _resp(status: int, headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(status, headers=headers)


NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (429, {"Retry-After": "12"}, 12.0),
        (503, {"Retry-After": "0.5"}, 0.5),
        (429, {"Retry-After": "Fri, 01 May 2026 12:00:30 GMT"}, 30.0),
        (429, {"Retry-After": "Fri, 01 May 2026 11:00:00 GMT"}, 0.0),
        (429, {"Retry-After": "-3"}, 0.0),
        (429, {"Retry-After": "soon"}, None),
        (429, {"x-ratelimit-reset": "2"}, 2.0),  # Pipedrive: seconds left in the window
        (200, {"x-ratelimit-reset": "2"}, None),
        (429, {}, None),
    ],
)
def test_retry_after(status: int, headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(_resp(status, headers), now=NOW) == expected
