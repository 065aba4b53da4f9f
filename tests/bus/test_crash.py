"""Real Redis, RabbitMQ and NATS: a consumer SIGKILLed twice mid-run loses nothing,
stores nothing twice, dead-letters every poison message and keeps each key's order.

2,000 events here (bench/bus.py runs 10,000); each broker on one backend, Redis on both,
to keep CI's time bounded (each run starts three consumer processes).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from crmsync.store.engine import make_engine, make_sessionmaker
from crmsync.store.migrate import upgrade
from crmsync.workspaces import create_workspace
from tests.bus import brokers, workload
from tests.e2e.waiting import PATIENCE
from tests.services import pg_schema

EVENTS = 2_000

RUNS = [
    ("redis", "sqlite"),
    pytest.param("redis", "postgresql", marks=pytest.mark.postgres),
    ("rabbit", "sqlite"),
    pytest.param("nats", "postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    backend = request.node.callspec.params["backend"]
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'bus.db'}"
        upgrade(url)
        engine = make_engine(url)
        yield url, engine
        engine.dispose()
        return
    with pg_schema() as url:
        upgrade(url)
        engine = make_engine(url)
        yield url, engine
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "backend"), RUNS)
def test_consumer_killed_twice_stores_each_event_once_in_order(
    kind: str, backend: str, store: tuple[str, Engine]
) -> None:
    url = brokers.require(kind)
    database_url, engine = store
    stream = brokers.fresh_stream(kind)
    with make_sessionmaker(engine)() as db:
        ws: uuid.UUID = create_workspace(db, f"bus-{kind}").id
        db.commit()
    load = workload.make(ws, EVENTS)
    asyncio.run(brokers.produce(kind, stream, load.messages))
    run = workload.consumer(url, stream, database_url, batch_size=50, claim_idle_ms=1000)
    try:
        workload.run_killing(run, engine, ws, len(load.valid))
        deadline = time.monotonic() + PATIENCE
        while len(asyncio.run(brokers.dead_letters(kind, stream))) < len(load.poison):
            assert time.monotonic() < deadline, "poison messages missing from the dead letters"
            time.sleep(0.1)
        dead = asyncio.run(brokers.dead_letters(kind, stream))
        workload.check(engine, ws, load, dead)
    finally:
        run.stop()
        asyncio.run(brokers.cleanup(kind, stream))
