"""Shared state is per process without Redis and per deployment with it."""

from __future__ import annotations

from typing import Any

from crmsync.connectors.http.ratelimit import Budget, MemoryWindows, RateLimiter, RateProfile
from crmsync.connectors.http.redis_windows import RedisWindows
from crmsync.connectors.http.sharing import shared_state
from crmsync.connectors.http.tokens import LocalTokenStore, RedisTokenStore
from crmsync.integrations.vault import Vault, VaultSealer

from .conftest import FakeClock

SEALER = VaultSealer(Vault.from_secret_key("s" * 40), "ws", "integ")


def test_without_redis_everything_is_process_wide(clock: FakeClock) -> None:
    first, second = shared_state(None), shared_state("")
    assert isinstance(first.windows(), MemoryWindows)
    assert first.windows() is second.windows()
    store = first.token_store("integ-9", SEALER)
    assert isinstance(store, LocalTokenStore)
    assert store is second.token_store("integ-9", SEALER)
    assert store is not first.token_store("integ-10", SEALER)
    # two limiters built from separate calls still share one budget
    prof = RateProfile("t", (Budget(2, 10),))
    a = RateLimiter(prof, "integ-shared", first.windows(), clock=clock, sleep=clock.sleep)
    b = RateLimiter(prof, "integ-shared", second.windows(), clock=clock, sleep=clock.sleep)
    a.acquire()
    a.acquire()
    assert b.acquire() == 10


def test_with_redis_state_goes_to_redis(redis_client: Any) -> None:
    url = redis_client.connection_pool.connection_kwargs
    state = shared_state(f"redis://{url['host']}:{url['port']}/{url.get('db', 0)}")
    assert isinstance(state.windows(), RedisWindows)
    assert isinstance(state.token_store("integ-9", SEALER), RedisTokenStore)
    assert state.redis.ping()
