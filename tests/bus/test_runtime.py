"""A running source against the real Redis: status and counts reported, pause holds the
messages on the broker, an unreachable broker is one clear line, metrics count."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import orjson
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from crmsync.bus import sources
from crmsync.bus.runtime import BrokerUnreachable, SourceRunner
from crmsync.bus.spec import SourceSpec
from crmsync.cli import app
from crmsync.store.migrate import upgrade
from crmsync.store.models import BusSource
from crmsync.workspaces import create_workspace
from tests.bus import brokers, workload


def _row(sessions: sessionmaker[Session], source_id: uuid.UUID) -> BusSource:
    with sessions() as db:
        row = db.get(BusSource, source_id)
        assert row is not None
        db.expunge(row)
        return row


def test_pause_holds_messages_and_status_is_reported(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    url = brokers.require("redis")
    stream = brokers.fresh_stream("redis")
    with sessions() as db:
        ws = create_workspace(db, "paused").id
        row = sources.save_source(db, ws, "leads", url, stream)
        spec = sources.spec_of(row, batch_size=10)
        db.commit()
    messages = [orjson.dumps({"id": f"m{i}", "type": "lead.created"}) for i in range(10)]

    async def scenario() -> None:
        runner = SourceRunner(spec, sessions, report_every=0.05)
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        await brokers.until(lambda: _row(sessions, spec.source_id).status == "running", "running")
        with sessions() as db:
            sources.set_paused(db, ws, spec.source_id, True)
            db.commit()
        await brokers.until(lambda: not runner.adapter.pipeline.open.is_set(), "the gate to close")
        await brokers.produce("redis", stream, messages)
        beat = _row(sessions, spec.source_id).heartbeat_at
        await brokers.until(lambda: _row(sessions, spec.source_id).heartbeat_at != beat, "a report")
        paused = _row(sessions, spec.source_id)
        assert (paused.status, paused.stored) == ("paused", 0)
        assert workload.stored(engine, ws) == 0
        with sessions() as db:
            sources.set_paused(db, ws, spec.source_id, False)
            db.commit()
        await brokers.until(lambda: _row(sessions, spec.source_id).stored == 10, "the messages")
        await brokers.until(lambda: _row(sessions, spec.source_id).lag == 0, "lag 0")
        stop.set()
        await task

    try:
        asyncio.run(scenario())
    finally:
        asyncio.run(brokers.cleanup("redis", stream))
    done = _row(sessions, spec.source_id)
    assert (done.status, done.stored, done.duplicates, done.dead_lettered) == ("idle", 10, 0, 0)
    assert workload.stored(engine, ws) == 10
    counted = REGISTRY.get_sample_value(
        "crmsync_bus_messages_total", {"source": "leads", "outcome": "stored"}
    )
    assert counted is not None and counted >= 10


def test_unreachable_broker_is_one_clear_line(sessions: sessionmaker[Session]) -> None:
    spec = SourceSpec("redis://app:pw@127.0.0.1:1/0", "leads")
    with pytest.raises(BrokerUnreachable) as raised:
        asyncio.run(SourceRunner(spec, sessions).connect(timeout=3))
    message = str(raised.value)
    assert "\n" not in message and "pw" not in message
    assert message.startswith("cannot reach the redis broker at redis://app:***@127.0.0.1:1/0")


@pytest.mark.parametrize("url", ["nats://127.0.0.1:1", "amqp://guest:guest@127.0.0.1:1/"])
def test_consume_command_exits_with_the_line(url: str, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(database)
    env = {"CRMSYNC_DATABASE_URL": database}
    answer = CliRunner().invoke(app, ["consume", "--source", url, "--stream", "leads"], env=env)
    assert answer.exit_code == 1
    kind = url.split(":")[0].replace("amqp", "rabbit")
    assert f"cannot reach the {kind} broker at " in answer.output
    assert "guest:guest" not in answer.output
    bad = CliRunner().invoke(app, ["consume", "--source", "mqtt://x", "--stream", "s"], env=env)
    assert bad.exit_code == 2 and "unknown broker URL scheme" in bad.output
