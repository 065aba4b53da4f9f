"""Outbound webhook benchmark: fan-out throughput and enqueue-to-delivery latency, SQLite.

    python bench/webhooks.py            # full size: 20,000 events for throughput, 2,000 trickled
    python bench/webhooks.py --quick    # CI size: 2,000 and 300

The receiver is a threaded HTTP server in its own process on loopback that verifies
nothing (the tests verify signatures); it answers 204 and reports arrival times.
Throughput: a backlog of events over 500 records is emitted at once and the deliverer
drains it. Latency: events are emitted at a steady rate while the deliverer runs in its
thread, and each is timed from its commit to its arrival. Targets: >= 1,000
deliveries/s; p99 enqueue-to-delivery < 1 s. Exits non-zero only when something fails.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import _stores
import httpx
from rich.console import Console
from sqlalchemy import func, select

from crmsync.config import Settings
from crmsync.integrations.keys import vault_for
from crmsync.outbound.emit import emit
from crmsync.outbound.webhooks import endpoints
from crmsync.outbound.webhooks.runner import Deliverer
from crmsync.store.engine import make_sessionmaker, session_scope
from crmsync.store.models import OutboundEvent

THROUGHPUT_TARGET = 1_000.0
P99_TARGET_S = 1.0
console = Console()


def _serve(port_out: Any, stop: Any, arrivals: Any) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            arrivals.put((self.headers["webhook-id"], time.time()))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    server.timeout = 0.2
    while not stop.is_set():
        server.handle_request()


def _drain_arrivals(arrivals: Any, want: int, timeout: float) -> dict[str, float]:
    got: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        try:
            msg_id, at = arrivals.get(timeout=0.5)
        except Exception:  # noqa: S112 (queue.Empty: keep waiting until the deadline)
            continue
        got.setdefault(msg_id, at)
    return got


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size, under a minute")
    args = parser.parse_args()
    backlog, trickle, rate = (2_000, 300, 100.0) if args.quick else (20_000, 2_000, 200.0)
    console.print(
        f"webhook benchmark on {platform.node()} ({platform.machine()}, "
        f"Python {platform.python_version()}), SQLite"
    )
    ctx = mp.get_context("spawn")
    port_q, arrivals, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(port_q, stop, arrivals), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port_q.get(timeout=30)}/hooks"
    settings = Settings(mode="test", sandbox_mode=True)  # type: ignore[call-arg]
    vault = vault_for(settings)
    try:
        with (
            tempfile.TemporaryDirectory() as folder,
            _stores.sqlite_url(Path(folder)) as db_url,
            _stores.opened("sqlite", db_url) as store,
        ):
            sessions = make_sessionmaker(store.engine)
            with session_scope(sessions) as session:
                endpoints.create(
                    session, vault, store.workspace_id, url, [], None, sandbox_mode=True
                )
            with session_scope(sessions) as session:
                for n in range(backlog):
                    emit(session, store.workspace_id, "deal.stage_changed", f"r{n % 500}", {"n": n})
            deliverer = Deliverer(
                sessions, vault, sandbox_mode=True, transport=httpx.HTTPTransport(retries=0)
            )
            started = time.perf_counter()
            sent = 0
            while sent < backlog:
                done = deliverer.run_once()
                sent += done
                if not done:
                    time.sleep(0.05)
            took = time.perf_counter() - started
            arrived = _drain_arrivals(arrivals, backlog, 30.0)
            console.print(
                f"throughput: {backlog:,} deliveries in {took:.2f} s = "
                f"[bold]{backlog / took:,.0f}/s[/] (target >= {THROUGHPUT_TARGET:,.0f}/s); "
                f"{len(arrived):,} arrived"
            )
            deliverer.start()
            emitted: dict[str, float] = {}
            for n in range(trickle):
                with session_scope(sessions) as session:
                    emit(session, store.workspace_id, "sync.failed", f"t{n % 50}", {"n": n})
                    event_id = session.scalar(select(func.max(OutboundEvent.id)))
                emitted[f"msg_{event_id}"] = time.time()
                time.sleep(1.0 / rate)
            landed = _drain_arrivals(arrivals, trickle, 30.0)
            deliverer.stop()
            delays = sorted(landed[k] - v for k, v in emitted.items() if k in landed)
            if not delays:
                console.print("[red]no trickled delivery arrived[/]")
                return 1
            p50 = statistics.median(delays)
            p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
            console.print(
                f"latency at {rate:.0f} events/s: {len(delays):,}/{trickle:,} arrived, "
                f"p50 {p50 * 1000:.0f} ms, [bold]p99 {p99 * 1000:.0f} ms[/] "
                f"(target < {P99_TARGET_S * 1000:.0f} ms), started {datetime.now(UTC):%H:%M}"
            )
    finally:
        stop.set()
        server.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
