"""Kafka on faststream's in-memory broker (no Kafka broker can run on this machine).

A consumer crash in Kafka means its uncommitted records go to the next consumer of the
group, from the last committed offset: here each new consumer gets the records again
from a few batches before where the last one stopped.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from faststream import Context
from faststream.kafka import TestKafkaBroker
from faststream.kafka.message import KafkaMessage
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus.adapters.kafka import KafkaTopic
from crmsync.bus.spec import SourceSpec
from crmsync.workspaces import create_workspace
from tests.bus import workload

EVENTS = 2_000
BATCH = 50


async def _consume(
    sessions: sessionmaker[Session], topic: str, batches: list[list[bytes]]
) -> list[tuple[bytes, str]]:
    """One consumer's life: the batches it polls; returns the dead letters it wrote."""
    adapter = KafkaTopic(SourceSpec("kafka://127.0.0.1:9092", topic, batch_size=BATCH), sessions)
    dead: list[tuple[bytes, str]] = []

    @adapter.broker.subscriber(f"{topic}.dead")
    async def collect(msg: Annotated[KafkaMessage, Context("message")]) -> None:
        dead.append((msg.body, msg.headers["crmsync-reason"]))

    async with TestKafkaBroker(adapter.broker) as broker:
        await adapter.connect()
        await adapter.start()
        for batch in batches:
            await broker.publish_batch(*batch, topic=topic)
        await adapter.stop()
    return dead


def test_kafka_consumer_crashes_twice_each_event_once_in_order(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    with sessions() as db:
        ws: uuid.UUID = create_workspace(db, "kafka").id
        db.commit()
    load = workload.make(ws, EVENTS)
    topic = f"leads-{uuid.uuid4().hex[:8]}"
    batches = [load.messages[i : i + BATCH] for i in range(0, len(load.messages), BATCH)]
    third = len(batches) // 3
    # Consumer 1 dies after a third; 2 restarts 3 batches back (uncommitted) and dies at
    # two thirds; 3 restarts 3 batches back and finishes.
    lives = [batches[:third], batches[third - 3 : 2 * third], batches[2 * third - 3 :]]
    dead: list[tuple[bytes, str]] = []
    for life in lives:
        dead += asyncio.run(_consume(sessions, topic, life))
    workload.check(engine, ws, load, dead)
