"""Push contacts through each connector into its sandbox under the real rate profile.

    python bench/connectors.py                      # 20,000 contacts per connector
    python bench/connectors.py --quick              # CI size, well under 60 s in all
    python bench/connectors.py --size 5000 --providers hubspot

Connectors come from the registry (``crmsync.connectors.registry.providers``); a
provider without a connector on this branch, or without a plan below, is listed as
skipped. Pipedrive and Total Expert have no upsert key, so each contact is a lookup and a
write (two calls) and their tiers allow a few contacts a second: 20,000 take hours, so
run them with a smaller ``--size``.

Each sandbox runs in this process on a real loopback socket with the rate
limits of the plan's tier; the connector spends its own profile of the same tier. A
counting transport under the connector sees every API call and every 429.

Printed per provider: records/s over the whole run and after the first window (records
written by calls sent after it, per second since it ended: the pace a long run settles
at, without the first window's burst), API calls per record against 1.02 / batch limit,
and 429s in and after the first window.
"""

from __future__ import annotations

import argparse
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from crmsync.connectors.base import Payload
from crmsync.connectors.http import HttpSettings
from crmsync.connectors.http.ratelimit import MemoryWindows
from crmsync.connectors.registry import ConnectorContext, build, providers
from crmsync.sandbox import create
from crmsync.sandbox.base import ProviderSandbox, SandboxOptions
from crmsync.sandbox.server import SandboxServer

FULL = 20_000
# HubSpot quick spans two windows; the others stay inside their first window or two
QUICK = {
    "hubspot": 12_000,
    "generic": 300,
    "salesforce": 2_000,
    "pipedrive": 30,
    "totalexpert": 200,
}


@dataclass(frozen=True)
class Plan:
    """How to bench one provider: its sandbox tier and the connector's matching profile."""

    sandbox_profile: str
    connector_profile: str | None  # None: the connector's own default for the tier
    limit: int  # requests per window of the tier
    window: float  # seconds
    batch_limit: int
    match_key: str
    credentials: Callable[[Any], dict[str, Any]]
    payload: Callable[[int], Payload]
    object_type: str = "contacts"
    stored_as: str | None = None  # the sandbox's name for the object type, if different
    # calls one write needs (2: a lookup by the key, then the write, where the provider
    # has no upsert key), and how many of them spend the window ``limit`` counts
    calls_per_write: int = 1
    limited_calls_per_write: int | None = None  # None: all of them

    @property
    def ceiling(self) -> float:
        """Records per second the tier allows at the batch limit."""
        limited = self.limited_calls_per_write or self.calls_per_write
        return self.limit / self.window * self.batch_limit / limited


PLANS: dict[str, Plan] = {
    "hubspot": Plan(
        sandbox_profile="free",
        connector_profile="hubspot-free",
        limit=100,
        window=10.0,
        batch_limit=100,
        match_key="email",
        credentials=lambda s: {"access_token": s.tokens.private_token},
        payload=lambda n: {
            "email": f"bench{n}@example.com",
            "firstname": "Bench",
            "lastname": f"L{n}",
        },
    ),
    "generic": Plan(
        sandbox_profile="standard",
        connector_profile=None,  # the definition's rate_limit: 600 per minute
        limit=600,
        window=60.0,
        batch_limit=1,
        match_key="externalReference",
        credentials=lambda s: {"api_key": s.api_key},
        payload=lambda n: {
            "externalReference": f"bench-{n}",
            "email": f"bench{n}@example.com",
            "firstname": "Bench",
            "lastname": f"L{n}",
        },
    ),
    "salesforce": Plan(
        sandbox_profile="enterprise",
        connector_profile="salesforce-enterprise",  # 100,000 a day, in hour-long windows
        limit=round(100_000 / 24),
        window=3600.0,
        batch_limit=200,
        match_key="External_Id__c",
        credentials=lambda s: {"access_token": s.org.tokens.default_token},
        payload=lambda n: {"External_Id__c": f"bench-{n}", "LastName": f"L{n}", "FirstName": "B"},
        stored_as="Contact",
    ),
    "pipedrive": Plan(
        sandbox_profile="growth",  # 40 calls / 2 s; search 10 / 2 s
        connector_profile=None,  # pipedrive-api-token-growth and pipedrive-search
        limit=10,  # every write waits for its search: the search window binds
        window=2.0,
        batch_limit=1,
        match_key="email",
        credentials=lambda s: {"api_token": s.oauth.api_token},
        payload=lambda n: {"name": f"Bench L{n}", "email": f"bench{n}@example.com"},
        object_type="persons",
        calls_per_write=2,  # a search by email, then POST or PATCH
        limited_calls_per_write=1,  # the search; the write spends the 40-call window
    ),
    "totalexpert": Plan(
        sandbox_profile="standard",  # 1,000 calls a minute
        connector_profile=None,  # totalexpert
        limit=1000,
        window=60.0,
        batch_limit=1,
        match_key="email",
        credentials=lambda s: {
            "client_id": s.tokens.client_id,
            "client_secret": s.tokens.client_secret,
        },
        payload=lambda n: {
            "email": f"bench{n}@example.com",
            "first_name": "Bench",
            "last_name": f"L{n}",
            "owner.id": 1,
        },
        calls_per_write=2,  # a filter lookup by email, then POST or PATCH
    ),
}


@dataclass
class CountingTransport(httpx.BaseTransport):
    """Counts calls, notes when each successful call was sent and each 429 came back."""

    inner: httpx.BaseTransport
    calls: int = 0
    sent_ok: list[float] = field(default_factory=list)
    throttled_at: list[float] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.monotonic()
        response = self.inner.handle_request(request)
        self.calls += 1
        if response.status_code == 429:
            self.throttled_at.append(time.monotonic())
        elif response.status_code < 300:
            self.sent_ok.append(sent)
        return response

    def close(self) -> None:
        self.inner.close()


def pace(rate: float, ceiling: float) -> str:
    if rate != rate:  # NaN: the run was too short to have a pace of its own
        return "n/a (run shorter than three windows)"
    return f"{rate:,.1f} = {rate / ceiling:.1%}"


def run(name: str, plan: Plan, size: int) -> None:
    sandbox: ProviderSandbox = create(name, SandboxOptions(rate_profile=plan.sandbox_profile))
    with SandboxServer([sandbox]) as server:
        counter = CountingTransport(httpx.HTTPTransport())
        context = ConnectorContext(
            integration_id=uuid.uuid4(),
            workspace_id=uuid.uuid4(),
            base_url=server.url(name),
            credentials=plan.credentials(sandbox),
            rate_profile=plan.connector_profile,
            http=HttpSettings(max_rate_wait=3 * plan.window),
            transport=counter,
            windows=MemoryWindows(),
        )
        connector = build(name, context)
        payloads = [plan.payload(n) for n in range(size)]
        started = time.monotonic()
        results = connector.upsert(plan.object_type, payloads, plan.match_key)
        elapsed = time.monotonic() - started
        connector.close()
        stored = sandbox.counts()[plan.stored_as or plan.object_type]
    written = sum(r.ok for r in results)
    window_end = started + plan.window
    # records written by the calls of the first window (a write takes calls_per_write)
    early = sum(at < window_end for at in counter.sent_ok) * plan.batch_limit
    early //= plan.calls_per_write
    after = elapsed - plan.window
    # over fewer than three windows the pace after the first is one more burst
    steady = (written - early) / after if elapsed >= 3 * plan.window else float("nan")
    late = sum(at > window_end for at in counter.throttled_at)
    allowed = 1.02 * plan.calls_per_write / plan.batch_limit
    print(
        f"{name}: {written:,} of {size:,} written ({stored:,} stored) in {elapsed:.1f} s; "
        f"tier {plan.limit}/{plan.window:g} s x {plan.batch_limit} = {plan.ceiling:,.0f} records/s"
    )
    if elapsed < plan.window:
        overall = f"{written / elapsed:,.1f} (all inside the first window: no ceiling applies)"
    else:
        overall = f"{written / elapsed:,.1f} = {written / elapsed / plan.ceiling:.1%} of ceiling"
    print(f"  records/s overall {overall}; after the first window {pace(steady, plan.ceiling)}")
    print(
        f"  API calls {counter.calls:,} = {counter.calls / size:.4f} per record "
        f"(target <= {allowed:.4f}); 429s {len(counter.throttled_at)} "
        f"({late} after the first window)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=FULL, help="contacts per connector")
    parser.add_argument("--quick", action="store_true", help="small sizes for CI")
    parser.add_argument("--providers", default="", help="comma-separated; default: all")
    args = parser.parse_args()
    # per-request logs would dominate the figures
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    wanted = [p for p in args.providers.split(",") if p] or sorted({*PLANS, *providers()})
    for name in wanted:
        if name not in providers():
            print(f"{name}: skipped (no connector on this branch)")
        elif name not in PLANS:
            print(f"{name}: skipped (no bench plan for this connector yet)")
        else:
            size = QUICK.get(name, 100) if args.quick else args.size
            run(name, PLANS[name], size)


if __name__ == "__main__":
    main()
