"""Rate windows shared through Redis by two limiters (two hosts) stay within budget."""

from __future__ import annotations

from typing import Any

import pytest

from crmsync.connectors.errors import RateLimited
from crmsync.connectors.http.ratelimit import Budget, MemoryWindows, RateLimiter, RateProfile
from crmsync.connectors.http.redis_windows import RedisWindows

from .conftest import FakeClock
from .test_ratelimit import max_in_window


def _pair(
    redis_client: Any, prefix: str, clock: FakeClock, prof: RateProfile, max_wait: float = 60
) -> list[RateLimiter]:
    return [
        RateLimiter(
            prof,
            "integ-1",
            RedisWindows(redis_client, prefix),
            clock=clock,
            sleep=clock.sleep,
            max_wait=max_wait,
        )
        for _ in range(2)
    ]


def test_two_hosts_share_the_sliding_window(
    redis_client: Any, redis_prefix: str, clock: FakeClock
) -> None:
    hosts = _pair(redis_client, redis_prefix, clock, RateProfile("hs", (Budget(20, 10),)))
    granted: list[tuple[float, float]] = []
    for n in range(200):
        hosts[n % 2].acquire()
        granted.append((clock(), 1.0))
        clock.now += 0.01
    assert max_in_window(granted, 10) == 20


def test_two_hosts_share_token_and_fixed_budgets(
    redis_client: Any, redis_prefix: str, clock: FakeClock
) -> None:
    prof = RateProfile("pd", (Budget(40, 2), Budget(300, 60, "fixed")))
    hosts = _pair(redis_client, redis_prefix, clock, prof, max_wait=120)
    granted: list[tuple[float, float]] = []
    for n in range(200):
        cost = 10.0 if n % 4 == 0 else 2.0
        hosts[n % 2].acquire(cost)
        granted.append((clock(), cost))
    assert max_in_window(granted, 2) <= 40
    per_minute: dict[int, float] = {}
    for t, c in granted:
        per_minute[int(t // 60)] = per_minute.get(int(t // 60), 0) + c
    assert max(per_minute.values()) <= 300


def test_redis_and_memory_backends_agree(
    redis_client: Any, redis_prefix: str, clock: FakeClock
) -> None:
    prof = RateProfile("t", (Budget(7, 3), Budget(30, 20, "fixed")))
    memory_clock = FakeClock(clock())
    shared = RateLimiter(
        prof,
        "i",
        RedisWindows(redis_client, redis_prefix),
        clock=clock,
        sleep=clock.sleep,
        max_wait=100,
    )
    local = RateLimiter(
        prof, "i", MemoryWindows(), clock=memory_clock, sleep=memory_clock.sleep, max_wait=100
    )
    for n in range(120):
        shared.acquire()
        local.acquire()
        clock.now += 0.05 * (n % 5)
        memory_clock.now += 0.05 * (n % 5)
    assert clock.sleeps == pytest.approx(memory_clock.sleeps, abs=0.002)


def test_penalty_is_shared_across_hosts(
    redis_client: Any, redis_prefix: str, clock: FakeClock
) -> None:
    first, second = _pair(
        redis_client, redis_prefix, clock, RateProfile("t", (Budget(100, 10),)), max_wait=3
    )
    first.penalize(30)
    with pytest.raises(RateLimited) as caught:
        second.acquire()
    assert caught.value.retry_after == pytest.approx(30, abs=0.01)
