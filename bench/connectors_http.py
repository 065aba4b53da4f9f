"""Benchmark of the connector HTTP layer: rate limiter, client overhead, vault.

    python bench/connectors_http.py            # full size
    python bench/connectors_http.py --quick    # CI size, well under 60 s
    python bench/connectors_http.py --size 50000

Prints one line per figure. The Redis figures need Redis at CRMSYNC_BENCH_REDIS_URL
(default redis://127.0.0.1:6379/7) and are skipped when it is down.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
import uuid
from typing import Any

import httpx
import structlog

from crmsync.connectors.http.client import build_http
from crmsync.connectors.http.profiles import profile
from crmsync.connectors.http.ratelimit import (
    Budget,
    MemoryWindows,
    RateLimiter,
    RateProfile,
    WindowBackend,
)
from crmsync.connectors.http.redis_windows import RedisWindows
from crmsync.integrations.vault import Vault

FULL = 200_000
QUICK = 5_000


class SimClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def bench_decisions(name: str, backend: WindowBackend, size: int) -> None:
    # a budget that never runs out: measures the cost of one decision
    limiter = RateLimiter(
        RateProfile("b", (Budget(1e12, 10), Budget(1e12, 86_400, "fixed"))),
        f"bench-{uuid.uuid4().hex}",
        backend,
    )
    started = time.perf_counter()
    for _ in range(size):
        limiter.acquire()
    print(
        f"limiter decisions, {name}: {rate(size, time.perf_counter() - started)}"
        f" ({size:,} calls, 2 budgets)"
    )


def bench_adherence(name: str, backend: WindowBackend, calls: int) -> None:
    """Simulated time: how close to the profile ceiling the limiter runs, and never over."""
    clock = SimClock()
    prof = profile(name)
    limiter = RateLimiter(
        prof, f"sim-{uuid.uuid4().hex}", backend, clock=clock, sleep=clock.sleep, max_wait=1e9
    )
    stamps: list[float] = []
    start = clock()
    for _ in range(calls):
        limiter.acquire()
        stamps.append(clock())
    elapsed = stamps[-1] - start
    burst = prof.budgets[0]
    ceiling = burst.limit / burst.period
    worst = 0
    j = 0
    for i, t in enumerate(stamps):
        while stamps[j] <= t - burst.period:
            j += 1
        worst = max(worst, i - j + 1)
    achieved = (calls - burst.limit) / elapsed if elapsed else float("inf")
    print(
        f"adherence {name}: {calls:,} calls in {elapsed:,.1f} simulated s, "
        f"{achieved:.2f} req/s after the first window = {achieved / ceiling:.1%} of ceiling "
        f"{ceiling:g}/s; max in any {burst.period:g} s window {worst} (limit {burst.limit:g})"
    )


def bench_client(size: int) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"results": []}))
    limiter = RateLimiter(RateProfile("b", (Budget(1e12, 10),)), "client-bench")
    http = build_http(
        base_url="https://api.hubapi.com", provider="hubspot", transport=transport, limiter=limiter
    )
    plain = httpx.Client(base_url="https://api.hubapi.com", transport=transport)
    for label, client in (("plain httpx.Client", plain), ("ConnectorHttp", http)):
        started = time.perf_counter()
        for _ in range(size):
            client.get("/crm/v3/objects/contacts", params={"limit": 100})
        print(
            f"round trips over MockTransport, {label}: {rate(size, time.perf_counter() - started)}"
        )


def bench_vault(size: int) -> None:
    vault = Vault.from_secret_key("bench-" + "k" * 40, ["old-" + "o" * 40])
    secret = "pat-na1-" + "x" * 36
    started = time.perf_counter()
    tokens = [vault.encrypt(secret, workspace_id="ws", integration_id=n) for n in range(size)]
    enc = time.perf_counter() - started
    started = time.perf_counter()
    for n, token in enumerate(tokens):
        vault.decrypt(token, workspace_id="ws", integration_id=n)
    dec = time.perf_counter() - started
    print(f"vault encrypt: {rate(size, enc)}, decrypt: {rate(size, dec)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=FULL, help="calls per figure")
    parser.add_argument("--quick", action="store_true", help=f"small size ({QUICK:,})")
    args = parser.parse_args()
    size = QUICK if args.quick else args.size
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print(f"size {size:,}")
    bench_decisions("in-process", MemoryWindows(), size)
    bench_adherence("hubspot-free", MemoryWindows(), min(size, 20_000))
    bench_adherence("totalexpert", MemoryWindows(), min(size, 20_000))
    bench_client(max(1, size // 10))
    bench_vault(max(1, size // 10))
    redis_client = _redis()
    if redis_client is None:
        print("redis: not reachable, shared-window figures skipped")
        return
    prefix = f"crmsync-bench:{uuid.uuid4().hex}"
    try:
        bench_decisions("redis", RedisWindows(redis_client, prefix), max(1, size // 10))
        bench_adherence("hubspot-free", RedisWindows(redis_client, prefix), min(size, 5_000))
    finally:
        for key in redis_client.scan_iter(f"{prefix}:*"):
            redis_client.delete(key)


def _redis() -> Any:
    import redis

    client = redis.Redis.from_url(
        os.environ.get("CRMSYNC_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
    )
    try:
        client.ping()
    except redis.RedisError:
        return None
    return client


if __name__ == "__main__":
    main()
