"""Records API benchmark: batch upserts over HTTP, and list latency with many contacts stored.

    python bench/records.py                    # full size: 100,000 upserts, 1,000,000 stored
    python bench/records.py --quick            # CI size: 2,000 upserts, 10,000 stored (< 60 s)
    python bench/records.py --backend sqlite   # or postgresql, or both (the default)
    python bench/records.py --processes 1      # only the one-process upsert measure

The API runs under uvicorn in its own process on an ephemeral loopback port; this process
is the client, one request at a time per API process. Upserts are measured with one API
process, then with ``--processes`` (default 2) side by side, one client thread each, as
``crmsync serve --workers 2`` runs them behind one port. Exits non-zero only when
something fails, never for a missed target.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _contacts
import _stores
import httpx
import orjson
from _server import ApiProcess
from rich.console import Console
from rich.table import Table

CONTACTS = "/api/v1/contacts"
UPSERT_TARGET = 5_000.0  # records/s, SQLite
P99_TARGET_MS = 50.0
WARMUP = 10
REFRESH_EVERY = 10  # batches

console = Console()


@dataclass(frozen=True)
class Sizes:
    upserts: int
    stored: int
    requests: int
    batch: int = 1000
    processes: int = 2  # API processes of the concurrent upsert measure (1: none)


@dataclass(frozen=True)
class Figure:
    backend: str
    measure: str
    result: str
    target: str = ""
    met: bool | None = None


class BenchFailed(Exception):
    """The API answered something other than what the benchmark expects."""


def _batches(items: list[dict[str, Any]], size: int) -> list[bytes]:
    return [orjson.dumps({"items": items[i : i + size]}) for i in range(0, len(items), size)]


@dataclass(frozen=True)
class Rate:
    records: int
    wall: float  # seconds
    server_cpu: float | None  # CPU seconds of the API process
    client_cpu: float  # CPU seconds of this process (requests, JSON, ANALYZE calls)

    @property
    def per_second(self) -> float:
        return self.records / self.wall

    def describe(self) -> str:
        text = f"{self.per_second:,.0f}/s ({self.wall:.1f} s wall"
        if self.server_cpu:
            text += (
                f"; server {self.server_cpu:.1f} CPU-s = "
                f"{self.records / self.server_cpu:,.0f}/server-CPU-s"
            )
        return text + f"; client {self.client_cpu:.1f} CPU-s; load {_load()})"


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def upsert_rate(
    clients: list[httpx.Client],
    bodies: list[bytes],
    expect: str,
    refresh: Callable[[], None],
    server_cpu: Callable[[], float | None] = lambda: None,
) -> Rate:
    """Send every batch, one at a time per client (API process); the records per second.

    Each item's result is checked. ``refresh`` runs after the first batch and every
    ``REFRESH_EVERY`` batches, inside the timing, standing in for the statistics upkeep a
    database does while a table grows.
    """
    headers = {"content-type": "application/json"}
    done: list[int] = []
    failures: list[BaseException] = []
    taken = itertools.count()
    lock = threading.Lock()

    def send(client: httpx.Client) -> None:
        try:
            while (n := next(taken)) < len(bodies) and not failures:
                if n % REFRESH_EVERY == 1:
                    with lock:
                        refresh()
                answer = client.post(f"{CONTACTS}/batch", content=bodies[n], headers=headers)
                if answer.status_code != 200:
                    raise BenchFailed(f"batch answered {answer.status_code}: {answer.text[:300]}")
                results = answer.json()["results"]
                wrong = [r for r in results if r["status"] != expect]
                if wrong:
                    raise BenchFailed(f"{len(wrong)} items not {expect}; first: {wrong[0]}")
                done.append(len(results))
        except BaseException as exc:  # handed to the caller below
            failures.append(exc)

    cpu_before, server_before = time.process_time(), server_cpu()
    start = time.perf_counter()
    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    if failures:
        raise failures[0]
    server_after = server_cpu()
    return Rate(
        sum(done),
        wall,
        None if server_before is None or server_after is None else server_after - server_before,
        time.process_time() - cpu_before,
    )


def list_latency(client: httpx.Client, params: dict[str, Any], requests: int) -> list[float]:
    """Milliseconds of each ``GET /contacts`` with ``params``, after a short warm-up."""
    samples = []
    for n in range(WARMUP + requests):
        start = time.perf_counter()
        answer = client.get(CONTACTS, params=params)
        elapsed = (time.perf_counter() - start) * 1000
        if answer.status_code != 200:
            raise BenchFailed(f"list answered {answer.status_code}: {answer.text[:300]}")
        page = answer.json()
        if len(page["items"]) != params["limit"] or not page["next_cursor"]:
            raise BenchFailed(f"list gave {len(page['items'])} items and no next page")
        if n >= WARMUP:
            samples.append(elapsed)
    return samples


def percentile(samples: list[float], pct: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def _latency_figures(backend: str, name: str, samples: list[float]) -> list[Figure]:
    p50, p99 = percentile(samples, 50), percentile(samples, 99)
    return [
        Figure(backend, f"{name} p50", f"{p50:.1f} ms"),
        Figure(
            backend,
            f"{name} p99",
            f"{p99:.1f} ms",
            f"< {P99_TARGET_MS:.0f} ms",
            p99 < P99_TARGET_MS,
        ),
    ]


def _upsert_figures(
    store: _stores.Store, sizes: Sizes, apis: list[ApiProcess], first: int
) -> Iterator[Figure]:
    """New then all-updated contacts, ``sizes.upserts`` numbered from ``first``."""
    people = _contacts.payloads(sizes.upserts, first=first)
    rng = random.Random(3)
    first_pass = _batches(people, sizes.batch)
    second_pass = _batches([_contacts.changed(p, rng) for p in people], sizes.batch)
    del people
    target = f">= {UPSERT_TARGET:,.0f}/s" if store.backend == "sqlite" else ""
    how = "1 API process" if len(apis) == 1 else f"{len(apis)} API processes, as many clients"
    clients = [
        httpx.Client(
            base_url=api.base_url,
            headers={"authorization": f"Bearer {store.api_key}"},
            timeout=120,
        )
        for api in apis
    ]

    def server_cpu() -> float | None:
        used = [api.cpu_seconds() for api in apis]
        return None if None in used else sum(u for u in used if u is not None)

    try:
        for label, bodies, expect in (
            ("upsert (new)", first_pass, "created"),
            ("upsert (all updates)", second_pass, "updated"),
        ):
            rate = upsert_rate(clients, bodies, expect, lambda: _stores.analyze(store), server_cpu)
            _stores.analyze(store)
            yield Figure(
                store.backend,
                f"{label}, {rate.records:,} in batches of {sizes.batch:,}, {how}",
                rate.describe(),
                target,
                rate.per_second >= UPSERT_TARGET if target else None,
            )
    finally:
        for client in clients:
            client.close()


def bench_backend(store: _stores.Store, sizes: Sizes, log_path: Path) -> Iterator[Figure]:
    b = store.backend
    with ExitStack() as stack:
        api = stack.enter_context(ApiProcess(store.url, log_path))
        yield from _upsert_figures(store, sizes, [api], first=0)
        # What `crmsync serve --workers N` runs: N processes taking batches side by side.
        more = [
            stack.enter_context(ApiProcess(store.url, log_path.with_suffix(f".{n}.log")))
            for n in range(1, sizes.processes)
        ]
        if more:
            yield from _upsert_figures(store, sizes, [api, *more], first=sizes.upserts)
        client = stack.enter_context(
            httpx.Client(
                base_url=api.base_url,
                headers={"authorization": f"Bearer {store.api_key}"},
                timeout=120,
            )
        )
        have = _stores.count_contacts(store)
        start = time.perf_counter()
        _stores.bulk_load(store, max(sizes.stored - have, 0), first=have)
        loaded = _stores.count_contacts(store)
        yield Figure(
            b,
            f"bulk load to {loaded:,} stored (not via API)",
            f"{time.perf_counter() - start:.1f} s",
        )

        page = {"limit": 100}
        yield from _latency_figures(
            b, "GET /contacts?limit=100 first page", list_latency(client, page, sizes.requests)
        )
        deep = int(loaded * 0.9)
        cursor = _stores.cursor_after(store, deep)
        yield from _latency_figures(
            b,
            f"GET /contacts?limit=100 after {deep:,} rows",
            list_latency(client, {**page, "cursor": cursor}, sizes.requests),
        )


def _backends(
    choice: str, folder: Path
) -> Iterator[tuple[str, Callable[[], AbstractContextManager[str]]]]:
    if choice in ("sqlite", "both"):
        yield "sqlite", lambda: _stores.sqlite_url(folder)
    if choice in ("postgresql", "both"):
        yield "postgresql", _stores.postgres_url


def _machine() -> str:
    pg = _stores.postgres_version() or "unreachable"
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, PostgreSQL {pg}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size, under a minute")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--upserts", type=int, help="contacts to upsert (default 100,000)")
    parser.add_argument("--stored", type=int, help="contacts stored for lists (default 1,000,000)")
    parser.add_argument("--requests", type=int, help="list requests per measure (default 200)")
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="API processes for the concurrent upsert measure (default 2, one per core; 1: skip)",
    )
    args = parser.parse_args(argv)
    base = Sizes(2_000, 10_000, 50) if args.quick else Sizes(100_000, 1_000_000, 200)
    sizes = Sizes(
        args.upserts or base.upserts,
        args.stored or base.stored,
        args.requests or base.requests,
        processes=max(args.processes, 1),
    )
    console.print(f"machine: {_machine()}")
    console.print(
        f"sizes: {sizes.upserts:,} upserts, {sizes.stored:,} stored, "
        f"{sizes.requests} list requests per measure"
    )
    figures: list[Figure] = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="crmsync-bench-") as tmp:
        folder = Path(tmp)
        for backend, make_url in _backends(args.backend, folder):
            started = time.perf_counter()
            try:
                with make_url() as url, _stores.opened(backend, url) as store:
                    for figure in bench_backend(store, sizes, folder / f"{backend}-server.log"):
                        console.print(f"  {figure.backend}: {figure.measure}: {figure.result}")
                        figures.append(figure)
            except _stores.Unavailable as exc:
                console.print(f"[yellow]{backend}: skipped, not reachable ({exc})[/yellow]")
                continue
            except (BenchFailed, httpx.HTTPError, RuntimeError) as exc:
                console.print(f"[red]{backend}: failed: {exc}[/red]")
                _show_log(folder / f"{backend}-server.log")
                failed = True
                continue
            console.print(f"{backend}: done in {time.perf_counter() - started:.0f} s")
    _print_table(figures)
    return 1 if failed else 0


def _show_log(path: Path) -> None:
    if path.exists():
        console.print(f"last server log lines ({path.name}):")
        for line in path.read_text(errors="replace").splitlines()[-15:]:
            console.print(f"  {line}", markup=False)


def _print_table(figures: list[Figure]) -> None:
    table = Table("backend", "measure", "result", "target", "met")
    marks = {True: "yes", False: "[red]NO[/red]", None: ""}
    for f in figures:
        table.add_row(f.backend, f.measure, f.result, f.target, marks[f.met])
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
