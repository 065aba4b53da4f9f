"""The limiter never spends more than its budgets, in any window."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.connectors.errors import RateLimited
from crmsync.connectors.http.profiles import profile, profiles
from crmsync.connectors.http.ratelimit import Budget, MemoryWindows, RateLimiter, RateProfile

from .conftest import FakeClock


def max_in_window(times: list[tuple[float, float]], period: float) -> float:
    """The largest total cost spent in any half-open window of ``period`` seconds."""
    best = 0.0
    for i, (start, _) in enumerate(times):
        # 1 µs of slack: float clock arithmetic may land an expiry a few ulps early
        total = sum(c for t, c in times[i:] if t < start + period - 1e-6)
        best = max(best, total)
    return best


def test_sliding_window_never_exceeds_budget(clock: FakeClock) -> None:
    limiter = RateLimiter(
        RateProfile("t", (Budget(100, 10),)), "i1", clock=clock, sleep=clock.sleep
    )
    granted: list[tuple[float, float]] = []
    for n in range(1000):
        limiter.acquire()
        granted.append((clock(), 1.0))
        clock.now += 0.001 * (n % 7)  # uneven arrivals
    assert max_in_window(granted, 10) == 100
    # and it does not starve either: 1,000 calls at 100/10 s take about 90 s
    assert granted[-1][0] - granted[0][0] == pytest.approx(90, abs=1.5)


def test_every_budget_of_a_profile_holds(clock: FakeClock) -> None:
    budgets = (Budget(10, 1), Budget(50, 10), Budget(120, 60, "fixed"))
    limiter = RateLimiter(
        RateProfile("t", budgets), "i1", clock=clock, sleep=clock.sleep, max_wait=3600
    )
    granted: list[tuple[float, float]] = []
    for _ in range(400):
        limiter.acquire()
        granted.append((clock(), 1.0))
    assert max_in_window(granted, 1) <= 10
    assert max_in_window(granted, 10) <= 50
    by_minute: dict[int, int] = {}
    for t, _ in granted:
        by_minute[int(t // 60)] = by_minute.get(int(t // 60), 0) + 1
    assert max(by_minute.values()) <= 120


def test_token_costs_count_against_the_budget(clock: FakeClock) -> None:
    # Pipedrive-style: 40 tokens per 2 s, calls cost 10 (write) or 2 (read)
    limiter = RateLimiter(RateProfile("pd", (Budget(40, 2),)), "i1", clock=clock, sleep=clock.sleep)
    granted: list[tuple[float, float]] = []
    for n in range(300):
        cost = 10.0 if n % 3 == 0 else 2.0
        limiter.acquire(cost)
        granted.append((clock(), cost))
    assert max_in_window(granted, 2) <= 40


def fixed_limiter(clock: FakeClock, budget: Budget, max_wait: float) -> RateLimiter:
    return RateLimiter(
        RateProfile("d", (budget,)), "i1", clock=clock, sleep=clock.sleep, max_wait=max_wait
    )


def test_fixed_window_resets_at_the_boundary(clock: FakeClock) -> None:
    clock.now = 1000.0
    limiter = fixed_limiter(clock, Budget(3, 100, "fixed"), max_wait=1000)
    for _ in range(4):
        limiter.acquire()
    assert clock.sleeps == [100.0]  # window [1000, 1100) full after 3
    assert clock() == 1100.0


def test_long_waits_are_raised_not_slept(clock: FakeClock) -> None:
    limiter = fixed_limiter(clock, Budget(2, 86_400, "fixed"), max_wait=60)
    limiter.acquire()
    limiter.acquire()
    with pytest.raises(RateLimited) as caught:
        limiter.acquire()
    assert caught.value.retry_after > 60
    assert clock.sleeps == []


def test_penalty_holds_every_caller_of_the_integration(clock: FakeClock) -> None:
    windows = MemoryWindows()
    prof = RateProfile("t", (Budget(100, 10),))
    a = RateLimiter(prof, "i1", windows, clock=clock, sleep=clock.sleep)
    b = RateLimiter(prof, "i1", windows, clock=clock, sleep=clock.sleep)
    other = RateLimiter(prof, "i2", windows, clock=clock, sleep=clock.sleep)
    a.penalize(5)
    assert other.acquire() == 0  # another integration is not held
    assert b.acquire() == pytest.approx(5)


def test_cost_above_the_smallest_limit_is_refused(clock: FakeClock) -> None:
    limiter = RateLimiter(RateProfile("t", (Budget(5, 1),)), "i1", clock=clock)
    with pytest.raises(ValueError):
        limiter.acquire(6)


def test_unlimited_profile_never_waits(clock: FakeClock) -> None:
    limiter = RateLimiter(profile("unlimited"), "i1", clock=clock, sleep=clock.sleep)
    assert all(limiter.acquire() == 0 for _ in range(1000))


def test_utilisation_leaves_headroom() -> None:
    scaled = RateProfile("t", (Budget(100, 10),), utilisation=0.9).effective()
    assert scaled == (Budget(90, 10),)


def test_profiles_are_known_and_named() -> None:
    assert profile("hubspot-free").budgets[0] == Budget(100, 10)
    assert all(name == p.name for name, p in profiles().items())
    with pytest.raises(KeyError, match="known"):
        profile("nope")


def test_threads_share_one_in_process_budget() -> None:
    # real clock, but a budget large enough that nobody waits: counts grants under contention
    windows = MemoryWindows()
    limiter = RateLimiter(RateProfile("t", (Budget(500, 3600),)), "i1", windows, max_wait=0)
    granted: list[int] = []
    refused: list[int] = []

    def worker() -> None:
        for _ in range(100):
            try:
                limiter.acquire()
                granted.append(1)
            except RateLimited:
                refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 500
    assert len(refused) == 300


@settings(max_examples=60, deadline=None)
@given(
    limits=st.lists(
        st.tuples(st.integers(1, 30), st.sampled_from([1.0, 2.0, 10.0]), st.booleans()),
        min_size=1,
        max_size=3,
    ),
    arrivals=st.lists(
        st.tuples(st.floats(0, 3, allow_nan=False), st.integers(1, 5)), min_size=1, max_size=150
    ),
)
def test_no_arrival_pattern_exceeds_any_budget(
    limits: list[tuple[int, float, bool]], arrivals: list[tuple[float, int]]
) -> None:
    clock = FakeClock()
    budgets = tuple(Budget(n, p, "fixed" if fixed else "sliding") for n, p, fixed in limits)
    smallest = min(b.limit for b in budgets)
    limiter = RateLimiter(
        RateProfile("p", budgets), "i", clock=clock, sleep=clock.sleep, max_wait=1e9
    )
    granted: list[tuple[float, float]] = []
    for gap, cost in arrivals:
        clock.now += gap
        spend = float(min(cost, smallest))
        limiter.acquire(spend)
        granted.append((clock(), spend))
    for budget in budgets:
        if budget.kind == "sliding":
            assert max_in_window(granted, budget.period) <= budget.limit
        else:
            per_window: dict[int, float] = {}
            for t, c in granted:
                index = int(t // budget.period)
                per_window[index] = per_window.get(index, 0) + c
            assert max(per_window.values()) <= budget.limit
