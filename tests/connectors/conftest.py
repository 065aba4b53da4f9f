"""Fixtures for the connector layer: a controllable clock and a Redis database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest


class FakeClock:
    """Time that moves only when someone sleeps; records every sleep."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def redis_client() -> Iterator[Any]:
    """Redis DB 7 with a unique key prefix, cleaned afterwards."""
    import redis

    url = os.environ.get("CRMSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("CRMSYNC_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is required (CRMSYNC_REQUIRE_SERVICES=1) but {url} is down")
        pytest.skip(f"Redis not reachable at {url}")
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client: Any) -> Iterator[str]:
    prefix = f"crmsync-test:{uuid.uuid4().hex}"
    yield prefix
    for key in redis_client.scan_iter(f"{prefix}:*"):
        redis_client.delete(key)
