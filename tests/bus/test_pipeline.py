"""The pipeline's rule: store, then dead-letter, then ack; a failing store is retried in
place, and a consumer stopped meanwhile hands the batch back, latest first."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import orjson
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus.pipeline import Batcher, Item, Pipeline
from crmsync.bus.spec import SourceSpec
from tests.conftest import Tenant


class FlakyStore:
    """A sessionmaker whose first ``failures`` sessions cannot reach the database."""

    def __init__(self, sessions: sessionmaker[Session], failures: int) -> None:
        self.sessions = sessions
        self.failures = failures

    def __call__(self) -> Session:
        if self.failures > 0:
            self.failures -= 1
            raise OperationalError("connect", {}, Exception("database is locked"))
        return self.sessions()


def _items(ws: uuid.UUID, log: list[str], names: list[str]) -> list[Item]:
    def item(name: str) -> Item:
        async def ack() -> None:
            log.append(f"ack {name}")

        async def nack() -> None:
            log.append(f"nack {name}")

        body = b"\xff" if name.startswith("bad") else orjson.dumps({"id": name, "type": "a.b"})
        return Item(body, name, ack=ack, nack=nack)

    return [item(n) for n in names]


def _pipeline(store: Callable[[], Session], ws: uuid.UUID, log: list[str]) -> Pipeline:
    async def dead_letter(dead: list[tuple[Item, str]]) -> None:
        log.extend(f"dead {item.ref}: {reason}" for item, reason in dead)

    spec = SourceSpec("redis://127.0.0.1:1/0", "s", workspace_id=ws)
    return Pipeline(spec, store, dead_letter, retry_after=0.05)  # type: ignore[arg-type]


def test_store_then_dead_letters_then_acks_retrying_a_failing_store(
    sessions: sessionmaker[Session], tenant: Tenant
) -> None:
    log: list[str] = []
    pipeline = _pipeline(FlakyStore(sessions, failures=3), tenant.id, log)
    stored = asyncio.run(pipeline.run(_items(tenant.id, log, ["a", "bad1", "b"])))
    assert stored is True
    assert log[0].startswith("dead bad1: not JSON")
    assert log[1:] == ["ack a", "ack bad1", "ack b"]
    assert (pipeline.counts.stored, pipeline.counts.dead) == (2, 1)


def test_stopped_while_failing_hands_the_batch_back_latest_first(
    sessions: sessionmaker[Session], tenant: Tenant
) -> None:
    log: list[str] = []
    pipeline = _pipeline(FlakyStore(sessions, failures=10**6), tenant.id, log)

    async def scenario() -> bool:
        running = asyncio.create_task(pipeline.run(_items(tenant.id, log, ["a", "b", "c"])))
        await asyncio.sleep(0.2)
        pipeline.stopping.set()
        return await running

    assert asyncio.run(scenario()) is False
    assert log == ["nack c", "nack b", "nack a"]


def test_batcher_keeps_arrival_order_across_full_and_timed_batches(
    sessions: sessionmaker[Session], tenant: Tenant
) -> None:
    from sqlalchemy import select

    from crmsync.store.models import Event

    log: list[str] = []
    pipeline = _pipeline(sessions, tenant.id, log)
    names = [f"o{n}" for n in range(23)]

    async def scenario() -> None:
        batcher = Batcher(pipeline, size=5, max_wait=0.01)
        for n, item in enumerate(_items(tenant.id, log, names)):
            await batcher.put(item)
            if n % 7 == 0:
                await asyncio.sleep(0.03)  # let a timed flush happen between puts
        await batcher.close()

    asyncio.run(scenario())
    with sessions() as db:
        keys = db.scalars(
            select(Event.idempotency_key)
            .where(Event.workspace_id == tenant.id)
            .order_by(Event.received_at)
        ).all()
    assert list(keys) == names
    assert log == [f"ack {n}" for n in names]
