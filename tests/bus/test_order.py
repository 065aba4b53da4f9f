"""A key's messages are stored in order when a consumer dies holding some: the next one
stores them before anything newer. NATS JetStream redelivers them only after the ack
wait and meanwhile hands newer messages to whoever pulls while fewer than a batch are
unacknowledged (the consumer holds those back: ``may_store``); Redis claims them before
reading new entries; RabbitMQ requeues them at the head. Against the machine's brokers."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus.adapters.nats import Held, may_store, stream_name
from crmsync.bus.pipeline import Item
from crmsync.bus.runtime import SourceRunner
from crmsync.bus.spec import SourceSpec
from crmsync.store.models import Event
from crmsync.workspaces import create_workspace
from tests.bus import brokers

ACK_WAIT = 2.0


@pytest.mark.parametrize(
    ("held", "floor", "pending", "waited", "expected"),
    [
        # Nothing but the held messages unacknowledged: store at once.
        (Held(first=11, count=10, redelivered=False), 10, 10, 0.0, True),
        # ... even with messages of other subjects (dead letters) between the floor and
        # them: the floor moves only on acknowledgements.
        (Held(first=11, count=3, redelivered=False), 4, 3, 0.0, True),
        # A dead consumer holds 5..7: newer messages wait (its batch comes back within
        # an ack wait, to this consumer)...
        (Held(first=11, count=3, redelivered=False), 4, 6, 0.0, False),
        (Held(first=11, count=3, redelivered=False), 4, 6, ACK_WAIT, False),
        # ... then are stored with it.
        (Held(first=5, count=6, redelivered=True), 4, 6, 0.1, True),
        # Part of its batch is back (5..6), the rest (7) not yet: wait for it.
        (Held(first=5, count=2, redelivered=True), 4, 3, 0.0, False),
        # A live twin holds newer messages: the oldest holder goes on.
        (Held(first=11, count=3, redelivered=False), 10, 8, 0.0, True),
        # Beside a twin, where the floor says nothing: at most twice the ack wait.
        (Held(first=5, count=3, redelivered=True), 4, 8, 2 * ACK_WAIT, True),
        (Held(first=11, count=3, redelivered=False), 4, 8, 2 * ACK_WAIT, True),
        # Stale copies of messages acknowledged already (below the floor).
        (Held(first=3, count=4, redelivered=True), 10, 2, 0.0, True),
    ],
)
def test_may_store(held: Held, floor: int, pending: int, waited: float, expected: bool) -> None:
    assert may_store(held, floor, pending, waited, ACK_WAIT) is expected


async def _die_holding_three(kind: str, spec: SourceSpec) -> None:
    """A consumer takes the first three messages and dies without acknowledging them."""
    if kind == "nats":
        import nats
        from nats.js.api import ConsumerConfig

        # Five more may then be delivered to the next consumer (at most a batch, 8,
        # unacknowledged) long before these three come back.
        nc = await nats.connect(spec.url)
        dead = await nc.jetstream().pull_subscribe(
            spec.stream,
            durable=spec.group,
            stream=stream_name(spec),
            config=ConsumerConfig(ack_wait=ACK_WAIT, max_ack_pending=spec.batch_size),
        )
        taken = [m.metadata.sequence.stream for m in await dead.fetch(3, timeout=5)]
        await nc.close()
    elif kind == "redis":
        import redis.asyncio as aredis

        client = aredis.from_url(spec.url)
        await client.xgroup_create(spec.stream, spec.group, "0", mkstream=True)
        reply: Any = await client.xreadgroup(spec.group, "dead", {spec.stream: ">"}, count=3)
        taken = [i + 1 for i, _ in enumerate(reply[0][1])]
        await client.aclose()
    else:
        import aio_pika

        connection = await aio_pika.connect(spec.url)
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=3)
        queue = await channel.declare_queue(spec.stream, durable=True)
        got = [await queue.get(no_ack=False) for _ in range(3)]
        taken = [orjson.loads(m.body)["data"]["seq"] for m in got]
        await connection.close()  # RabbitMQ requeues them
    assert taken == [1, 2, 3]


@pytest.mark.parametrize("kind", ["nats", "redis", "rabbit"])
def test_a_dead_consumers_messages_are_stored_before_newer_ones(
    sessions: sessionmaker[Session], engine: Engine, kind: str
) -> None:
    url = brokers.require(kind)
    stream = brokers.fresh_stream(kind)
    with sessions() as db:
        ws = create_workspace(db, f"order-{uuid.uuid4().hex[:6]}").id
        db.commit()
    messages = [
        orjson.dumps(
            {
                "id": f"ev-{n}",
                "workspace_id": str(ws),
                "key": "lead-1",
                "type": "lead.status_changed",
                "data": {"seq": n},
            }
        )
        for n in range(1, 11)
    ]
    spec = SourceSpec(url, stream, batch_size=8, claim_idle_ms=int(ACK_WAIT * 1000))
    batches: list[list[int]] = []

    async def scenario() -> None:
        await brokers.produce(kind, stream, messages)
        await _die_holding_three(kind, spec)
        runner = SourceRunner(spec, sessions)
        pipeline = runner.adapter.pipeline
        run = pipeline.run

        async def recording(items: list[Item], *args: Any, **kwargs: Any) -> bool:
            batches.append([orjson.loads(i.payload or b"")["data"]["seq"] for i in items])
            return await run(items, *args, **kwargs)

        pipeline.run = recording  # type: ignore[method-assign]
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        try:
            await brokers.until(lambda: pipeline.counts.stored >= len(messages), "all")
        finally:
            stop.set()
            await task
        if kind == "nats":  # it had newer messages first, and held them back
            assert runner.adapter.held_back > 0  # type: ignore[attr-defined]

    try:
        asyncio.run(scenario())
    finally:
        asyncio.run(brokers.cleanup(kind, stream))
    with engine.connect() as conn:
        stored = conn.scalars(
            select(Event.data).where(Event.workspace_id == ws).order_by(Event.received_at)
        ).all()
    assert [d["seq"] for d in stored] == list(range(1, 11)), batches
    assert batches[0][:3] == [1, 2, 3]


def test_nats_messages_of_other_subjects_do_not_hold_a_batch_back(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    """A dead letter (the stream's other subject) between the last acknowledged message
    and the next batch: the durable's ack floor stays below it until the next ack, and
    the batch must not take that for an older message held elsewhere."""
    import nats

    url = brokers.require("nats")
    stream = brokers.fresh_stream("nats")
    with sessions() as db:
        ws = create_workspace(db, f"order-{uuid.uuid4().hex[:6]}").id
        db.commit()

    def message(n: int) -> bytes:
        body = {"id": f"ev-{n}", "workspace_id": str(ws), "type": "lead.status_changed"}
        return orjson.dumps({**body, "data": {"seq": n}})

    spec = SourceSpec(url, stream, batch_size=8, claim_idle_ms=int(ACK_WAIT * 1000))

    async def scenario() -> int:
        await brokers.produce("nats", stream, [message(1)])
        runner = SourceRunner(spec, sessions)
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        try:
            await brokers.until(lambda: runner.adapter.pipeline.counts.stored == 1, "the first")
            nc = await nats.connect(url)
            await nc.jetstream().publish(spec.dead_letters, b"a dead letter")
            await nc.close()
            await brokers.produce("nats", stream, [message(2), message(3)])
            await brokers.until(lambda: runner.adapter.pipeline.counts.stored == 3, "the rest")
        finally:
            stop.set()
            await task
        return int(runner.adapter.held_back)  # type: ignore[attr-defined]

    try:
        held_back = asyncio.run(scenario())
    finally:
        asyncio.run(brokers.cleanup("nats", stream))
    assert held_back == 0
