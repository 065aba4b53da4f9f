"""Throughput of the Pipedrive and Total Expert connectors against their sandboxes.

Per provider: N new contacts written one by one (Pipedrive: exact search, then create;
Total Expert: lookup by email, then POST), the same N written again (found, updated),
and a full poll of changes from the beginning. Sandboxes run in this process on loopback
with rate limits off, so the figures are the connector's and the wire's cost.

    python bench/connectors_pipedrive_totalexpert.py            # 2,000 records each
    python bench/connectors_pipedrive_totalexpert.py --quick    # 200 records each
    python bench/connectors_pipedrive_totalexpert.py 500
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog

from crmsync.connectors.base import ChangePage, Connector, Outcome
from crmsync.connectors.registry import ConnectorContext, build
from crmsync.sandbox.base import ProviderSandbox, SandboxOptions
from crmsync.sandbox.pipedrive.sandbox import PipedriveSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.totalexpert.sandbox import TotalExpertSandbox

FULL, QUICK = 2000, 200


def _pipedrive() -> tuple[ProviderSandbox, dict[str, Any], str, Callable[[int], dict[str, Any]]]:
    sandbox = PipedriveSandbox(SandboxOptions(rate_profile="off"))
    credentials = {"api_token": sandbox.oauth.api_token}
    return sandbox, credentials, "persons", lambda n: {"name": f"P{n}", "email": f"p{n}@x.io"}


def _totalexpert() -> tuple[ProviderSandbox, dict[str, Any], str, Callable[[int], dict[str, Any]]]:
    sandbox = TotalExpertSandbox(SandboxOptions(rate_profile="off"))
    tokens = sandbox.tokens
    credentials = {"client_id": tokens.client_id, "client_secret": tokens.client_secret}

    def payload(n: int) -> dict[str, Any]:
        return {"first_name": f"F{n}", "last_name": "L", "email": f"p{n}@x.io", "owner.id": 1}

    return sandbox, credentials, "contacts", payload


def _poll(connector: Connector, object_type: str) -> int:
    cursor, total = None, 0
    while True:
        page: ChangePage = connector.changes(object_type, cursor)
        total += len(page.records)
        cursor = page.next_cursor
        if not page.has_more:
            return total


def _timed(label: str, count: int, action: Any) -> Any:
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    print(f"  {label:<28} {count:>6} in {seconds:6.2f} s = {count / seconds:8.1f} /s")
    return result


def run(setup: Callable[[], Any], size: int) -> None:
    sandbox, credentials, object_type, make = setup()
    with SandboxServer([sandbox]) as server:
        context = ConnectorContext(
            integration_id=uuid.uuid4(),
            workspace_id=uuid.uuid4(),
            base_url=server.url(sandbox.name),
            credentials=credentials,
            rate_profile="unlimited",
        )
        connector = build(sandbox.name, context)
        payloads = [make(n) for n in range(size)]
        changed = [
            {**p, "city" if object_type == "contacts" else "name": "Again"} for p in payloads
        ]
        print(f"{sandbox.name} ({object_type}, match on email)")
        made = _timed(
            "create (lookup + write)",
            size,
            lambda: connector.upsert(object_type, payloads, "email"),
        )
        again = _timed(
            "update (lookup + write)",
            size,
            lambda: connector.upsert(object_type, changed, "email"),
        )
        polled = _timed("poll changes from scratch", size, lambda: _poll(connector, object_type))
        created = sum(r.outcome is Outcome.CREATED for r in made)
        updated = sum(r.outcome is Outcome.UPDATED for r in again)
        print(f"  check: {created} created, {updated} updated, {polled} polled")
        connector.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=FULL)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} records each")
    args = parser.parse_args()
    size = QUICK if args.quick else args.size
    # per-request logs would dominate the figures
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    for setup in (_pipedrive, _totalexpert):
        run(setup, size)


if __name__ == "__main__":
    main()
