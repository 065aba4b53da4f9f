"""The worker's bus: configured sources run, an unreachable one is an error status, not a stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import orjson
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus import sources
from crmsync.bus.runner import BusRunner
from crmsync.store.models import BusSource
from tests.bus import brokers
from tests.conftest import Tenant
from tests.e2e.waiting import PATIENCE


def test_runs_configured_sources_and_reports_a_dead_broker(
    sessions: sessionmaker[Session], client: TestClient, make_tenant: Callable[[], Tenant]
) -> None:
    """The API goes on answering, and shows the dead broker's source in error."""
    url = brokers.require("redis")
    stream = brokers.fresh_stream("redis")
    tenant = make_tenant()
    ws = tenant.id
    with sessions() as db:
        good = sources.save_source(db, ws, "good", url, stream).id
        bad = sources.save_source(db, ws, "bad", "amqp://guest:guest@127.0.0.1:1/", "q").id
        db.commit()
    asyncio.run(
        brokers.produce(
            "redis", stream, [orjson.dumps({"id": f"r{i}", "type": "a.b"}) for i in range(5)]
        )
    )

    def row(source_id: object) -> BusSource:
        with sessions() as db:
            found = db.get(BusSource, source_id)
            assert found is not None
            return found

    runner = BusRunner(sessions, refresh=0.2, max_backoff=0.5)
    runner.start()
    try:
        deadline = time.monotonic() + PATIENCE
        while row(good).stored < 5 or row(bad).status != "error":
            assert time.monotonic() < deadline, (row(good).stored, row(bad).status)
            time.sleep(0.1)
        listed = client.get("/api/v1/sources", headers=tenant.headers()).json()["items"]
        shown = {s["name"]: s for s in listed}
        assert shown["bad"]["status"] == "error" and shown["good"]["stored"] == 5
    finally:
        runner.stop()
        asyncio.run(brokers.cleanup("redis", stream))
    error = row(bad).last_error or ""
    assert error.startswith("cannot reach the rabbit broker at amqp://guest:***@127.0.0.1:1/")
    assert row(good).status == "idle"
