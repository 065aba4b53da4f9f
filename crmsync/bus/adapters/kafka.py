"""Kafka: a consumer group; an offset is committed only after its batch is stored.

Not run against a real broker here (none can be installed on crmsync's machines): the
tests use faststream's in-memory ``TestKafkaBroker``. A failed batch seeks each
partition back to its batch's first message; a dead consumer's
partitions go to the others on rebalance, from the last committed offset.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus.adapters import QUIET
from crmsync.bus.pipeline import Item, Pipeline
from crmsync.bus.spec import SourceSpec


def bootstrap_servers(url: str) -> list[str]:
    return urlsplit(url).netloc.rpartition("@")[2].split(",")


class KafkaTopic:
    def __init__(self, spec: SourceSpec, sessions: sessionmaker[Session]) -> None:
        self.spec = spec
        self.pipeline = Pipeline(spec, sessions, self._dead_letter)
        self.broker = KafkaBroker(bootstrap_servers(spec.url), logger=QUIET)
        self.broker.subscriber(
            spec.stream,
            group_id=spec.group,
            auto_offset_reset="earliest",
            batch=True,  # one handler call per poll, its records in order
            max_records=spec.batch_size,
            ack_policy=AckPolicy.MANUAL,
        )(self._handle)

    async def connect(self) -> None:
        await self.broker.connect()

    async def start(self) -> None:
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()

    async def _handle(self, msg: KafkaMessage) -> None:
        records: Any = msg.raw_message
        items = [Item(r.value, f"{r.topic}/{r.partition}/{r.offset}") for r in records]
        # The commit (ack) covers the poll; a failed batch seeks back to its start.
        await self.pipeline.run(items, ack_all=msg.ack, nack_all=msg.nack)

    async def _dead_letter(self, dead: list[tuple[Item, str]]) -> None:
        for item, reason in dead:
            await self.broker.publish(
                item.payload or b"",
                topic=self.spec.dead_letters,
                headers={"crmsync-reason": reason, "crmsync-offset": item.ref},
            )

    async def lag(self) -> int | None:
        return None  # the group's lag is the broker's to tell (kafka-consumer-groups)
