"""How fast the Salesforce connector pushes and polls contacts against the sandbox.

    python bench/connector_salesforce.py             # 20,000 contacts
    python bench/connector_salesforce.py --quick     # 2,000 contacts (CI, < 60 s)
    python bench/connector_salesforce.py --size 5000

Over TLS on loopback, under the real ``salesforce-enterprise`` rate profile, the
connector writes ``size`` contacts three ways: upserted by the external id
``External_Id__c`` (one collections call per 200), then matched on ``Email`` (a SOQL
lookup plus one write per 200; all updates), then polled back with ``changes`` from the
beginning. It prints records per second, API calls per record (the sandbox's own usage
counter) and the refusals for a spent allocation (403 REQUEST_LIMIT_EXCEEDED; Salesforce
never answers 429). Client and server share this process, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import ssl
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import structlog

from crmsync.connectors.http import HttpSettings
from crmsync.connectors.http.ratelimit import MemoryWindows
from crmsync.connectors.registry import ConnectorContext
from crmsync.connectors.salesforce.client import QUERY_BATCH
from crmsync.connectors.salesforce.connector import BATCH_LIMIT, SalesforceConnector
from crmsync.sandbox.salesforce import Sandbox
from crmsync.sandbox.server import SandboxServer

FULL_SIZE = 20_000
QUICK_SIZE = 2_000


def _contacts(size: int, variant: str) -> list[dict[str, Any]]:
    return [
        {
            "External_Id__c": f"c-{n}",
            "Email": f"c{n}@example.com",
            "FirstName": f"First {n}",
            "LastName": f"Last {variant}",
        }
        for n in range(size)
    ]


def _run(label: str, sandbox: Sandbox, ideal: int, work: Any) -> None:
    """Time ``work``; ``ideal`` is the fewest calls the operation can take."""
    used_before = sandbox.usage()[0]
    started = time.perf_counter()
    count = work()
    seconds = time.perf_counter() - started
    calls = sandbox.usage()[0] - used_before
    print(
        f"{label:<34} {count:>7,} records  {seconds:7.2f} s  {count / seconds:9,.0f} rec/s  "
        f"{calls:>5} calls  {calls / max(count, 1):.4f} calls/rec  "
        f"(fewest possible {ideal:,})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=FULL_SIZE)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE:,} contacts")
    args = parser.parse_args()
    size = QUICK_SIZE if args.quick else args.size
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))

    sandbox = Sandbox()
    with SandboxServer([sandbox], tls=True) as server:
        statuses: Counter[int] = Counter()
        context = ConnectorContext(
            integration_id=uuid.uuid4(),
            workspace_id=uuid.uuid4(),
            base_url=server.url("salesforce"),
            credentials={"access_token": sandbox.org.tokens.default_token},
            rate_profile="salesforce-enterprise",
            http=HttpSettings(timeout=120),
            transport=httpx.HTTPTransport(
                verify=ssl.create_default_context(cafile=str(server.cert_path))
            ),
            windows=MemoryWindows(),
        )
        connector = SalesforceConnector.from_context(context)
        hooks = connector.client.http.client.event_hooks["response"]
        hooks.append(lambda response: statuses.update([response.status_code]))
        print(f"Salesforce connector, {size:,} contacts, profile salesforce-enterprise")

        def by_external_id() -> int:
            results = connector.upsert("contacts", _contacts(size, "a"), "External_Id__c")
            assert all(r.ok for r in results)
            return len(results)

        def by_email() -> int:
            payloads = [
                {k: v for k, v in p.items() if k != "External_Id__c"} for p in _contacts(size, "b")
            ]
            results = connector.upsert("contacts", payloads, "Email")
            assert all(r.ok and r.outcome.value == "updated" for r in results)
            return len(results)

        def poll() -> int:
            cursor, total = None, 0
            while True:
                page = connector.changes("contacts", cursor)
                total += len(page.records)
                cursor = page.next_cursor
                if not page.has_more:
                    return total

        writes = -(-size // BATCH_LIMIT)
        _run("upsert by External_Id__c", sandbox, writes, by_external_id)
        _run("upsert matched on Email", sandbox, 2 * writes, by_email)
        _run("changes from the beginning", sandbox, -(-size // QUERY_BATCH), poll)
        refused = statuses[403]
        print(f"REQUEST_LIMIT_EXCEEDED answers: {refused}; answers by status: {dict(statuses)}")
        connector.close()


if __name__ == "__main__":
    main()
