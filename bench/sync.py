"""Sync engine benchmarks against the HubSpot sandbox over real sockets, on SQLite.

(a) engine overhead: records/s pushed with rate limits off (target >= 5,000/s);
(b) real-time latency: changes committed at a steady rate, p50/p99 from commit to the
    CRM's acknowledgement (targets p50 < 200 ms, p99 < 1 s at 50 changes/s);
(c) webhook intake: signed deliveries/s into /api/v1/webhooks, p99, none lost
    (target >= 1,000/s, p99 < 100 ms).

    python bench/sync.py            # 20,000 records, 30 s at 50/s, 5,000 deliveries
    python bench/sync.py --quick    # small sizes for CI
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _server import ApiProcess
from sqlalchemy import func, select

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.demo import ServerThread
from crmsync.records.service import create_record, upsert_records
from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.store.models import Integration, SyncJob, WebhookEvent
from crmsync.sync.targets import TargetResolver
from crmsync.sync.worker import Worker
from crmsync.workspaces import create_workspace


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class World:
    """A migrated SQLite database, the HubSpot sandbox, crmsync served, one integration."""

    def __init__(self, folder: Path) -> None:
        self.sandbox = HubSpotSandbox(SandboxOptions(rate_profile="off"), batch_delay=0.01)
        self.crm = SandboxServer([self.sandbox]).start()
        url = f"sqlite:///{folder / 'bench-sync.db'}"
        upgrade(url)
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        with session_scope(self.sessions) as session:
            workspace = create_workspace(session, "bench")
            _key, api_key = create_api_key(session, workspace.id, Role.ADMIN)
        self.workspace_id = workspace.id
        settings = Settings(database_url=url, mode="test", sandbox_mode=True, log_level="WARNING")
        self.server = ServerThread(settings, 0)
        self.base_url = f"http://127.0.0.1:{self.server.start()}"
        self.settings = settings.model_copy(update={"base_url": self.base_url})
        self.server.app.state.settings = self.settings
        self.api = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
        )
        made = self.api.post(
            "/api/v1/integrations",
            json={
                "provider": "hubspot",
                "name": "bench",
                "credentials": {
                    "access_token": self.sandbox.tokens.private_token,
                    "client_secret": self.sandbox.tokens.client_secret,
                },
                "base_url": self.crm.url("hubspot"),
                "rate_limit_profile": "unlimited",
                "config": {"objects": {"contacts": "outbound"}},
            },
        )
        made.raise_for_status()
        self.integration_id = made.json()["id"]
        self.resolver = TargetResolver(self.settings)

    def pending(self) -> int:
        with self.sessions() as session:
            return (
                session.scalar(
                    select(func.count()).select_from(SyncJob).where(SyncJob.status == "pending")
                )
                or 0
            )

    def close(self) -> None:
        self.api.close()
        self.server.stop()
        self.crm.stop()
        self.resolver.close()
        self.engine.dispose()


class SandboxProcess:
    """The HubSpot sandbox served by a process of its own, so its CPU is measured apart
    from the engine's and the two do not share one interpreter lock."""

    def __init__(self) -> None:
        command = [sys.executable, "-m", "crmsync.sandbox.cli", "--providers", "hubspot"]
        command += ["--port", "0", "--rate-profile", "off"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        _name, self.url, *credentials = self.process.stdout.readline().split()
        self.credentials = dict(item.split("=", 1) for item in credentials)
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def contacts(self) -> int:
        state = self.client.get("/_sandbox/state", params={"requests": 0}).json()
        return int(state["counts"]["contacts"])

    def cpu_seconds(self) -> float:
        """User + system CPU of the sandbox process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(10)


def _set_status(world: World, integration_id: str, status: str) -> None:
    with session_scope(world.sessions) as session:
        integration = session.get(Integration, uuid.UUID(integration_id))
        assert integration is not None
        integration.status = status


def engine_overhead(world: World, count: int, concurrency: int = 2) -> dict[str, float]:
    """Records pushed per second to a sandbox in another process, on one integration of
    its own (the world's integration is paused meanwhile, so nothing else is queued)."""
    crm = SandboxProcess()
    try:
        made = world.api.post(
            "/api/v1/integrations",
            json={
                "provider": "hubspot",
                "name": "bench-a",
                "credentials": {"access_token": crm.credentials["token"]},
                "base_url": crm.url,
                "rate_limit_profile": "unlimited",
                "config": {"objects": {"contacts": "outbound"}},
            },
        )
        made.raise_for_status()
        _set_status(world, world.integration_id, "disabled")
        with session_scope(world.sessions) as session:
            for start in range(0, count, 1000):
                items = [
                    {"email": f"p{i}@bench.example", "first_name": f"P{i}"}
                    for i in range(start, min(count, start + 1000))
                ]
                upsert_records(session, world.workspace_id, "contacts", items, "api")
        worker = Worker(world.sessions, world.resolver, concurrency=concurrency)
        cpu, crm_cpu = time.process_time(), crm.cpu_seconds()
        started = time.perf_counter()
        worker.start()
        while world.pending() or crm.contacts() < count:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu, crm_cpu = time.process_time() - cpu, crm.cpu_seconds() - crm_cpu
        worker.stop()
        _set_status(world, made.json()["id"], "disabled")
        _set_status(world, world.integration_id, "connected")
    finally:
        crm.close()
    return {
        "records": count,
        "seconds": elapsed,
        "records_per_s": count / elapsed,
        "engine_cpu_us": cpu / count * 1e6,
        "sandbox_cpu_us": crm_cpu / count * 1e6,
        "concurrency": concurrency,
    }


def latency(world: World, rate: float, seconds: float) -> dict[str, float]:
    worker = Worker(world.sessions, world.resolver, concurrency=2, poll_interval=0.01)
    worker.start()
    total = int(rate * seconds)
    start = time.perf_counter()
    for n in range(total):
        due = start + n / rate
        time.sleep(max(0.0, due - time.perf_counter()))
        with session_scope(world.sessions) as session:
            create_record(
                session,
                world.workspace_id,
                "contacts",
                {"email": f"rt{n}-{uuid.uuid4().hex[:6]}@bench.example"},
                "api",
            )
    while world.pending():
        time.sleep(0.02)
    time.sleep(0.2)
    worker.stop()
    with world.sessions() as session:
        rows = session.execute(
            select(SyncJob.enqueued_at, SyncJob.updated_at)
            .where(SyncJob.status == "succeeded")
            .order_by(SyncJob.id.desc())
            .limit(total)
        ).all()
    waits = [(done - queued).total_seconds() for queued, done in rows]
    return {
        "changes": total,
        "p50_ms": _quantile(waits, 0.5) * 1000,
        "p99_ms": _quantile(waits, 0.99) * 1000,
    }


def _signed(world: World, url: str, body: bytes) -> dict[str, str]:
    stamp = str(int(time.time() * 1000))
    message = b"POST" + url.encode() + body + stamp.encode()
    key = world.sandbox.tokens.client_secret.encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return {
        "X-HubSpot-Signature-v3": base64.b64encode(digest).decode(),
        "X-HubSpot-Request-Timestamp": stamp,
        "Content-Type": "application/json",
    }


def webhook_intake(world: World, deliveries: int, folder: Path) -> dict[str, float]:
    """Signed deliveries from 8 sender threads here to the API served, with its in-process
    worker (as ``crmsync serve`` runs it), by a process of its own: the senders do not
    share its interpreter lock, and its CPU per delivery is measured apart."""
    senders = 8
    url_db = str(world.engine.url)
    path = f"/api/v1/webhooks/hubspot/{world.integration_id}"
    # HubSpot signs the public URL the integration was given: the world's base URL.
    public = world.settings.base_url
    with ApiProcess(
        url_db,
        folder / "bench-sync-api.log",
        worker=True,
        mode="test",
        sandbox_mode=True,
        base_url=public,
    ) as api:
        url = f"{api.base_url}{path}"
        times: list[float] = []
        lock = threading.Lock()
        client = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=2 * senders))

        def deliver(n: int) -> None:
            body = (
                f'[{{"eventId": {n}, "subscriptionType": "contact.propertyChange", '
                f'"objectId": {n}, "propertyName": "firstname", "propertyValue": "x"}}]'
            ).encode()
            t = time.perf_counter()
            headers = _signed(world, f"{public}{path}", body)
            answer = client.post(url, content=body, headers=headers)
            answer.raise_for_status()
            with lock:
                times.append(time.perf_counter() - t)

        # A few deliveries first, so the first request's set-up is not timed.
        for n in range(-senders, 0):
            deliver(n)
        times.clear()
        before = _stored(world)
        cpu = api.cpu_seconds() or 0.0
        started = time.perf_counter()
        with ThreadPoolExecutor(senders) as pool:
            list(pool.map(deliver, range(deliveries)))
        elapsed = time.perf_counter() - started
        cpu = (api.cpu_seconds() or 0.0) - cpu
        client.close()
        stored = _stored(world) - before
        # The worker's drain: how long until every stored event was taken for polling.
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline and _undrained(world):
            time.sleep(0.1)
        drained_s = time.perf_counter() - started - elapsed
        undrained = _undrained(world)
    return {
        "deliveries": deliveries,
        "per_s": deliveries / elapsed,
        "p50_ms": _quantile(times, 0.5) * 1000,
        "p99_ms": _quantile(times, 0.99) * 1000,
        "lost": deliveries - stored,
        "server_cpu_us": cpu / deliveries * 1e6,
        "drained_after_s": drained_s,
        "undrained": undrained,
    }


def _stored(world: World) -> int:
    with world.sessions() as session:
        return session.scalar(select(func.count()).select_from(WebhookEvent)) or 0


def _undrained(world: World) -> int:
    with world.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(WebhookEvent)
                .where(WebhookEvent.processed_at.is_(None))
            )
            or 0
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument("--concurrency", type=int, default=2, help="push threads for (a)")
    parser.add_argument("--parts", default="abc", help="which of (a), (b), (c) to run")
    parser.add_argument("--deliveries", type=int, help="deliveries for (c)")
    args = parser.parse_args()
    records, seconds, deliveries = (1000, 4.0, 300) if args.quick else (20_000, 30.0, 5000)
    print(f"machine: 2 cores, Python {sys.version.split()[0]}; SQLite; HubSpot sandbox, limits off")
    with tempfile.TemporaryDirectory() as folder:
        world = World(Path(folder))
        try:
            if "a" in args.parts:
                a = engine_overhead(world, records, args.concurrency)
                print(
                    f"(a) engine overhead: {a['records']:,} records pushed in {a['seconds']:.1f} s"
                    f" = {a['records_per_s']:,.0f} records/s (target >= 5,000/s);"
                    f" {a['concurrency']} push threads; CPU per record: engine"
                    f" {a['engine_cpu_us']:.0f} us, sandbox process {a['sandbox_cpu_us']:.0f} us"
                    f" (load average {os.getloadavg()[0]:.1f})"
                )
            if "b" in args.parts:
                b = latency(world, 50.0, seconds)
                print(
                    f"(b) real-time at 50 changes/s, {b['changes']} changes:"
                    f" p50 {b['p50_ms']:.0f} ms,"
                    f" p99 {b['p99_ms']:.0f} ms (targets p50 < 200 ms, p99 < 1,000 ms)"
                )
            if "c" in args.parts:
                c = webhook_intake(world, args.deliveries or deliveries, Path(folder))
                print(
                    f"(c) webhook intake: {c['deliveries']:,} deliveries at {c['per_s']:,.0f}/s,"
                    f" p50 {c['p50_ms']:.0f} ms, p99 {c['p99_ms']:.0f} ms, lost {c['lost']}"
                    " (targets >= 1,000/s, p99 < 100 ms, lost 0); server process (API + worker)"
                    f" CPU per delivery {c['server_cpu_us']:.0f} us; worker drained the events"
                    f" {c['drained_after_s']:.1f} s after the last answer ({c['undrained']} left)"
                    f" (load average {os.getloadavg()[0]:.1f})"
                )
        finally:
            world.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
