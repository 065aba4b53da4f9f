"""Kafka: a consumer group; an offset is committed only after its batch is stored.

Not run against a real broker here (none can be installed on crmsync's machines): the
tests use faststream's in-memory ``TestKafkaBroker``. A failed batch seeks each
partition back to its earliest message (nacks, latest first); a dead consumer's
partitions go to the others on rebalance, from the last committed offset.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus.adapters import QUIET
from crmsync.bus.pipeline import Batcher, Item, Pipeline
from crmsync.bus.spec import SourceSpec


def bootstrap_servers(url: str) -> list[str]:
    return urlsplit(url).netloc.rpartition("@")[2].split(",")


class KafkaTopic:
    def __init__(self, spec: SourceSpec, sessions: sessionmaker[Session]) -> None:
        self.spec = spec
        self.pipeline = Pipeline(spec, sessions, self._dead_letter)
        self.batcher = Batcher(self.pipeline, spec.batch_size, spec.max_wait_ms / 1000)
        self.broker = KafkaBroker(bootstrap_servers(spec.url), logger=QUIET)
        self.broker.subscriber(
            spec.stream,
            group_id=spec.group,
            auto_offset_reset="earliest",
            max_records=spec.batch_size,
            ack_policy=AckPolicy.MANUAL,
        )(self._handle)

    async def connect(self) -> None:
        await self.broker.connect()

    async def start(self) -> None:
        await self.broker.start()

    async def stop(self) -> None:
        await self.batcher.close()
        await self.broker.stop()

    async def _handle(self, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        ref = f"{getattr(raw, 'partition', 0)}:{getattr(raw, 'offset', 0)}"
        await self.batcher.put(Item(msg.body, ref, ack=msg.ack, nack=msg.nack))

    async def _dead_letter(self, dead: list[tuple[Item, str]]) -> None:
        for item, reason in dead:
            await self.broker.publish(
                item.payload or b"",
                topic=self.spec.dead_letters,
                headers={"crmsync-reason": reason, "crmsync-offset": item.ref},
            )

    async def lag(self) -> int | None:
        return None  # the group's lag is the broker's to tell (kafka-consumer-groups)
