"""Event-bus benchmarks against the machine's Redis, RabbitMQ and NATS.

(a) Redis Streams intake: events/s from a full stream to committed rows, into SQLite and
    PostgreSQL (target >= 5,000/s each);
(b) soak: 10,000 events with 5% duplicates and 1% poison, the consumer process SIGKILLed
    twice, on Redis, RabbitMQ and NATS, and Kafka on the in-memory broker: every valid
    event stored once, in order per key, every poison message dead-lettered;
(c) p99 from a lead published on the bus (a contact upsert) to the HubSpot sandbox
    acknowledging it, rate limits off, 50 leads/s (target < 1 s).

    python bench/bus.py            # (a) 50,000 events; (b) 10,000 on every broker; (c) 20 s
    python bench/bus.py --quick    # (a) 5,000; (b) 1,000 on Redis and Kafka; (c) 3 s
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import _stores  # noqa: E402
import orjson  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from crmsync.bus.runtime import SourceRunner  # noqa: E402
from crmsync.bus.spec import SourceSpec  # noqa: E402
from crmsync.store.engine import make_sessionmaker  # noqa: E402
from crmsync.store.models import Contact, SyncJob  # noqa: E402
from tests.bus import brokers, workload  # noqa: E402

REDIS_URL = brokers.URLS["redis"]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a local process (a PostgreSQL backend), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def intake(backend: str, url: str, count: int) -> dict[str, float]:
    """Fill a stream with ``count`` events, then time one consumer taking them all in."""
    with _stores.opened(backend, url) as store:
        sessions = make_sessionmaker(store.engine)
        backends: list[int] = []  # PostgreSQL server processes serving the consumer
        if backend == "postgresql":

            @event.listens_for(store.engine, "connect")
            def _backend_pid(dbapi_connection: Any, _record: Any) -> None:
                with dbapi_connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    backends.append(cursor.fetchone()[0])

            store.engine.dispose()  # connections made from here on are counted
        stream = brokers.fresh_stream("redis")
        messages = [
            orjson.dumps(
                {
                    "id": f"ev-{n}",
                    "workspace_id": str(store.workspace_id),
                    "key": f"lead-{n % 1000}",
                    "type": "lead.status_changed",
                    "data": {"lead": f"lead-{n % 1000}", "status": "CONTACTED", "n": n},
                }
            )
            for n in range(count)
        ]
        asyncio.run(brokers.produce("redis", stream, messages))

        async def consume() -> tuple[float, float]:
            runner = SourceRunner(SourceSpec(REDIS_URL, stream, batch_size=1000), sessions)
            stop = asyncio.Event()
            cpu = time.process_time()
            server: dict[int, float] = {}
            started = time.perf_counter()
            task = asyncio.create_task(runner.run(stop))
            while runner.adapter.pipeline.counts.stored < count:
                for pid in backends:
                    server.setdefault(pid, _cpu_seconds(pid))  # at its first sight
                await asyncio.sleep(0.01)
                if task.done():
                    task.result()
            elapsed = time.perf_counter() - started
            used = time.process_time() - cpu
            db_used = sum(_cpu_seconds(pid) - at for pid, at in server.items())
            stop.set()
            await task
            return elapsed, used, db_used

        try:
            seconds, cpu_seconds, db_seconds = asyncio.run(consume())
        finally:
            asyncio.run(brokers.cleanup("redis", stream))
    return {
        "events": count,
        "seconds": seconds,
        "per_s": count / seconds,
        "cpu_us": cpu_seconds / count * 1e6,
        "db_cpu_us": db_seconds / count * 1e6,
    }


def soak(kind: str, url: str, events: int) -> dict[str, float]:
    with _stores.opened("sqlite", url) as store:
        stream = brokers.fresh_stream(kind)
        load = workload.make(store.workspace_id, events)
        asyncio.run(brokers.produce(kind, stream, load.messages))
        run = workload.consumer(brokers.URLS[kind], stream, url, batch_size=100, claim_idle_ms=1000)
        try:
            seconds = workload.run_killing(run, store.engine, store.workspace_id, len(load.valid))
            deadline = time.monotonic() + 60
            while len(asyncio.run(brokers.dead_letters(kind, stream))) < len(load.poison):
                assert time.monotonic() < deadline, "poison messages missing"
                time.sleep(0.2)
            workload.check(
                store.engine,
                store.workspace_id,
                load,
                asyncio.run(brokers.dead_letters(kind, stream)),
            )
        finally:
            run.stop()
            asyncio.run(brokers.cleanup(kind, stream))
    return {"messages": len(load.messages), "valid": len(load.valid), "seconds": seconds}


def soak_kafka(url: str, events: int) -> dict[str, float]:
    from tests.bus.test_kafka import BATCH, _consume

    with _stores.opened("sqlite", url) as store:
        sessions = make_sessionmaker(store.engine)
        load = workload.make(store.workspace_id, events)
        topic = f"leads-{uuid.uuid4().hex[:8]}"
        batches = [load.messages[i : i + BATCH] for i in range(0, len(load.messages), BATCH)]
        third = len(batches) // 3
        lives = [batches[:third], batches[third - 3 : 2 * third], batches[2 * third - 3 :]]
        started = time.perf_counter()
        dead: list[tuple[bytes, str]] = []
        for life in lives:
            dead += asyncio.run(_consume(sessions, topic, life))
        workload.check(store.engine, store.workspace_id, load, dead)
    return {"messages": len(load.messages), "seconds": time.perf_counter() - started}


def lead_latency(folder: Path, seconds: float, rate: float = 50.0) -> dict[str, float]:
    """Leads as contact upserts on a Redis stream -> crmsync -> HubSpot sandbox."""
    sys.path.insert(0, str(ROOT / "bench"))
    from sync import World  # bench/sync.py: SQLite, HubSpot sandbox (limits off), integration

    from crmsync.sync.worker import Worker

    world = World(folder)
    stream = brokers.fresh_stream("redis")
    sent: dict[str, float] = {}
    loop_ready = threading.Event()
    stop_holder: dict[str, asyncio.Event] = {}

    def consume() -> None:
        async def run() -> None:
            stop_holder["stop"] = asyncio.Event()
            loop_ready.set()
            spec = SourceSpec(REDIS_URL, stream, workspace_id=world.workspace_id, batch_size=200)
            await SourceRunner(spec, world.sessions).run(stop_holder["stop"])

        asyncio.run(run())

    import redis

    client = redis.Redis.from_url(REDIS_URL)
    worker = Worker(world.sessions, world.resolver, concurrency=2, poll_interval=0.01)
    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    loop_ready.wait(10)
    worker.start()
    try:
        total = int(rate * seconds)
        start = time.perf_counter()
        for n in range(total):
            due = start + n / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            ref = f"lead-{n}-{uuid.uuid4().hex[:6]}"
            body = {
                "id": f"up-{ref}",
                "key": ref,
                "upsert": {
                    "record_type": "contacts",
                    "record": {"external_ref": ref, "email": f"{ref}@bench.example"},
                },
            }
            sent[ref] = time.time()
            client.xadd(stream, {"data": orjson.dumps(body)})
        deadline = time.monotonic() + 60
        while _acknowledged(world.sessions, world.workspace_id) < total:
            assert time.monotonic() < deadline, "leads did not all reach the sandbox"
            time.sleep(0.05)
    finally:
        worker.stop()
        if "stop" in stop_holder:
            stop_holder["stop"].set()
        consumer.join(30)
        client.delete(stream, f"{stream}.dead")
        client.close()
    with world.sessions() as session:
        rows = session.execute(
            select(Contact.external_ref, SyncJob.updated_at)
            .join(SyncJob, SyncJob.record_id == Contact.id)
            .where(Contact.workspace_id == world.workspace_id, SyncJob.status == "succeeded")
        ).all()
    waits = [done.timestamp() - sent[ref] for ref, done in rows if ref in sent]
    if os.environ.get("BENCH_TRACE"):
        with world.sessions() as session:
            trace = session.execute(
                select(
                    Contact.external_ref, SyncJob.enqueued_at, SyncJob.updated_at, SyncJob.attempts
                ).join(SyncJob, SyncJob.record_id == Contact.id)
            ).all()
        t0 = min(sent.values())
        print(
            sorted(
                (
                    round(sent[r] - t0, 2),
                    round(q.timestamp() - sent[r], 2),
                    round(d.timestamp() - q.timestamp(), 2),
                    a,
                )
                for r, q, d, a in trace
            )
        )
    world.close()
    return {
        "leads": len(waits),
        "p50_ms": _quantile(waits, 0.5) * 1000,
        "p99_ms": _quantile(waits, 0.99) * 1000,
    }


def _acknowledged(sessions: sessionmaker[Session], workspace_id: uuid.UUID) -> int:
    from sqlalchemy import func

    with sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(SyncJob)
                .where(SyncJob.workspace_id == workspace_id, SyncJob.status == "succeeded")
            )
            or 0
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument("--parts", default="abc", help="which of (a), (b), (c) to run")
    args = parser.parse_args()
    count, events, seconds = (5_000, 1_000, 3.0) if args.quick else (50_000, 10_000, 20.0)
    kinds = ["redis"] if args.quick else ["redis", "rabbit", "nats"]
    print(f"machine: 2 cores, Python {sys.version.split()[0]}; load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "a" in args.parts:
            with _stores.sqlite_url(folder) as url:
                a = intake("sqlite", url, count)
            print(
                f"(a) Redis Streams -> SQLite: {a['events']:,} events in {a['seconds']:.2f} s"
                f" = {a['per_s']:,.0f} events/s (target >= 5,000/s); consumer CPU"
                f" {a['cpu_us']:.0f} us/event (load average {os.getloadavg()[0]:.1f})"
            )
            try:
                with _stores.postgres_url() as url:
                    a = intake(
                        "postgresql", url.replace("postgresql://", "postgresql+psycopg://"), count
                    )
                print(
                    f"(a) Redis Streams -> PostgreSQL: {a['events']:,} events"
                    f" in {a['seconds']:.2f} s"
                    f" = {a['per_s']:,.0f} events/s (target >= 5,000/s); consumer CPU"
                    f" {a['cpu_us']:.0f} us/event, PostgreSQL server CPU {a['db_cpu_us']:.0f}"
                    f" us/event (load average {os.getloadavg()[0]:.1f})"
                )
            except _stores.Unavailable as exc:
                print(f"(a) PostgreSQL skipped: {exc}")
        if "b" in args.parts:
            for n, kind in enumerate(kinds):
                b = soak(kind, f"sqlite:///{folder / f'soak-{n}.db'}", events)
                print(
                    f"(b) {kind}: {b['messages']:,} messages ({b['valid']:,} valid), consumer"
                    f" SIGKILLed twice: each stored once, in order, poison dead-lettered;"
                    f" {b['seconds']:.1f} s with three process starts"
                )
            k = soak_kafka(f"sqlite:///{folder / 'soak-kafka.db'}", events)
            print(
                f"(b) kafka (in-memory broker): {k['messages']:,} messages, two crashes"
                f" redelivering from behind: each stored once, in order; {k['seconds']:.1f} s"
            )
        if "c" in args.parts:
            c = lead_latency(folder, seconds)
            print(
                f"(c) bus -> HubSpot sandbox, {c['leads']} leads at 50/s: p50 {c['p50_ms']:.0f} ms,"
                f" p99 {c['p99_ms']:.0f} ms (target p99 < 1,000 ms)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
