"""How fast a full pull and a change poll run against the Salesforce sandbox.

    python bench/sandbox_salesforce.py              # 50,000 Contacts
    python bench/sandbox_salesforce.py --quick      # 5,000 Contacts (CI, < 60 s)
    python bench/sandbox_salesforce.py --size 20000

Loads `size` Contacts with collections upserts of 200 (rate limits off), then times,
over a real socket with httpx: a full ``queryAll`` pull following ``nextRecordsUrl``
pages of 2,000, a ``SystemModstamp`` poll that returns the newest batch (200 records), and
the ``updated`` resource over the whole window. The client runs in this process on
the main thread and the server on a background thread, so both share one
interpreter: the figures are a floor for what a separate client would see.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

import httpx
import orjson

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.salesforce import Sandbox
from crmsync.sandbox.salesforce.clock import ManualClock
from crmsync.sandbox.salesforce.values import format_datetime
from crmsync.sandbox.server import SandboxServer

V = "/services/data/v59.0"
FULL_SIZE = 50_000
QUICK_SIZE = 5_000


def _load(client: httpx.Client, clock: ManualClock, size: int) -> float:
    """Upsert `size` Contacts, one second of sandbox time per batch; returns seconds."""
    started = time.perf_counter()
    for first in range(0, size, 200):
        records = [
            {
                "attributes": {"type": "Contact"},
                "External_Id__c": f"c-{n}",
                "LastName": f"Last {n}",
                "Email": f"c{n}@example.com",
            }
            for n in range(first, min(first + 200, size))
        ]
        answer = client.patch(
            f"{V}/composite/sobjects/Contact/External_Id__c",
            content=orjson.dumps({"allOrNone": False, "records": records}),
        )
        answer.raise_for_status()
        clock.advance(seconds=1)
    return time.perf_counter() - started


def _pull(client: httpx.Client, soql: str) -> tuple[int, int, float]:
    """(records, pages, seconds) of a query followed to its last page."""
    started = time.perf_counter()
    page = client.get(f"{V}/queryAll", params={"q": soql}).json()
    records, pages = len(page["records"]), 1
    while not page["done"]:
        page = client.get(page["nextRecordsUrl"]).json()
        records += len(page["records"])
        pages += 1
    return records, pages, time.perf_counter() - started


def run(size: int) -> None:
    clock = ManualClock()
    start = clock()
    sandbox = Sandbox(SandboxOptions(rate_profile="off"), clock=clock)
    with SandboxServer([sandbox]) as server:
        client = httpx.Client(
            base_url=server.url("salesforce"),
            headers={
                "Authorization": f"Bearer {sandbox.org.tokens.default_token}",
                "Content-Type": "application/json",
            },
            timeout=120,
        )
        load_s = _load(client, clock, size)
        newest = clock() - timedelta(seconds=1)  # stamp of the last batch
        clock.advance(minutes=2)
        full = _pull(
            client,
            "SELECT Id, LastName, Email, SystemModstamp FROM Contact ORDER BY SystemModstamp",
        )
        poll = _pull(
            client,
            newest.strftime(
                "SELECT Id, LastName, SystemModstamp FROM Contact "
                "WHERE SystemModstamp >= %Y-%m-%dT%H:%M:%SZ ORDER BY SystemModstamp"
            ),
        )
        began = time.perf_counter()
        updated = client.get(
            f"{V}/sobjects/Contact/updated/",
            params={"start": format_datetime(start), "end": format_datetime(clock())},
        ).json()
        updated_s = time.perf_counter() - began
        client.close()
    print(f"salesforce sandbox pull benchmark: {size} Contacts (client in-process)")
    print(f"{'step':<26} {'records':>8} {'pages':>6} {'seconds':>8} {'records/s':>10}")
    rows = [
        ("load (upsert 200/call)", size, (size + 199) // 200, load_s),
        ("full queryAll pull", *full),
        ("SystemModstamp poll", *poll),
        ("updated resource", len(updated["ids"]), 1, updated_s),
    ]
    for step, records, pages, seconds in rows:
        print(f"{step:<26} {records:>8} {pages:>6} {seconds:>8.2f} {records / seconds:>10.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=FULL_SIZE, help="Contacts to load")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE} Contacts (CI)")
    args = parser.parse_args(argv)
    run(QUICK_SIZE if args.quick else args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
