"""An integration's own rate budgets are spent with the provider's."""

from __future__ import annotations

import uuid

import pytest

from crmsync.connectors.errors import RateLimited
from crmsync.connectors.http.ratelimit import (
    Budget,
    ExtraBudgets,
    MemoryWindows,
    RateLimiter,
    RateProfile,
)
from crmsync.integrations.config import RateBudget
from crmsync.integrations.connection import _windows
from crmsync.store.models import Integration

from .conftest import FakeClock

PROVIDER = RateProfile("p", (Budget(100, 10),))


def test_the_own_budget_holds_when_the_providers_has_room(clock: FakeClock) -> None:
    # the health app's bulk sync: 10,000 an hour (here 5 an hour, the same rule)
    own = RateBudget(limit=5, per="1h").budget()
    assert own == Budget(5, 3600, "fixed")
    windows = ExtraBudgets(MemoryWindows(), [own])
    limiter = RateLimiter(PROVIDER, "i1", windows, clock=clock, sleep=clock.sleep, max_wait=60)
    for _ in range(5):
        limiter.acquire()
    with pytest.raises(RateLimited) as caught:
        limiter.acquire()  # the provider's 100/10 s has room; the own hour does not
    assert 0 < caught.value.retry_after <= 3600
    clock.now += 3600
    limiter.acquire()  # a new hour


def test_short_own_windows_slide_and_are_waited_for(clock: FakeClock) -> None:
    windows = ExtraBudgets(MemoryWindows(), [RateBudget(limit=2, per="10s").budget()])
    limiter = RateLimiter(PROVIDER, "i1", windows, clock=clock, sleep=clock.sleep, max_wait=60)
    for _ in range(3):
        limiter.acquire()
    assert clock.sleeps == [10.0]


def test_an_integration_without_own_budgets_uses_the_shared_windows_as_they_are() -> None:
    shared = MemoryWindows()
    plain = Integration(id=uuid.uuid4(), config={"objects": {}})
    assert _windows(shared, plain) is shared
    own = Integration(id=uuid.uuid4(), config={"rate_budgets": [{"limit": 10000, "per": "1h"}]})
    wrapped = _windows(shared, own)
    assert isinstance(wrapped, ExtraBudgets) and wrapped.inner is shared
    assert wrapped.extra == (Budget(10000, 3600, "fixed"),)
