"""One module per broker; each builds a faststream broker and feeds ``Pipeline``."""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus.pipeline import Pipeline
from crmsync.bus.spec import Kind, SourceSpec

# faststream logs every message at INFO; crmsync's own log says what matters.
QUIET = logging.getLogger("crmsync.bus.broker")
QUIET.setLevel(logging.WARNING)


class Adapter(Protocol):
    pipeline: Pipeline

    async def connect(self) -> None:
        """Reach the broker and declare what crmsync reads; raises if it cannot."""

    async def start(self) -> None:
        """Take over what a crashed consumer left, then consume."""

    async def stop(self) -> None: ...

    async def lag(self) -> int | None:
        """Messages not yet taken in, when the broker can tell."""


def adapter_for(spec: SourceSpec, sessions: sessionmaker[Session]) -> Adapter:
    if spec.kind is Kind.REDIS:
        from crmsync.bus.adapters.redis_streams import RedisStreams

        return RedisStreams(spec, sessions)
    if spec.kind is Kind.RABBIT:
        from crmsync.bus.adapters.rabbit import RabbitQueueSource

        return RabbitQueueSource(spec, sessions)
    if spec.kind is Kind.NATS:
        from crmsync.bus.adapters.nats import NatsJetStream

        return NatsJetStream(spec, sessions)
    from crmsync.bus.adapters.kafka import KafkaTopic

    return KafkaTopic(spec, sessions)
