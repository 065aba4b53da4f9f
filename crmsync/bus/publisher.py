"""Publish the outbound-event outbox to a bus: one stream/queue/subject/topic per workspace.

At least once, in order per key: events go out one at a time in id order, each confirmed
by the broker, and are marked published after; a crash between the two publishes them
again (each carries its ``id``, ``crmsync-<n>``, for the receiver to drop repeats). Run
one publisher per database: two would each keep the order but interleave repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus import metrics, outbox
from crmsync.bus.spec import Kind, kind_of, masked
from crmsync.store.models import OutboundEvent

log = structlog.get_logger(__name__)

PREFIX = "crmsync.events"
NATS_STREAM = "CRMSYNC_EVENTS"

Send = Callable[[str, str, bytes], Awaitable[None]]  # (destination, key, body)


def destination(workspace_id: object) -> str:
    """Where a workspace's events go: ``crmsync.events.<workspace id>``."""
    return f"{PREFIX}.{workspace_id}"


@dataclass
class OutboxPublisher:
    url: str
    sessions: sessionmaker[Session]
    batch_size: int = 500
    idle_wait: float = 0.2

    def __post_init__(self) -> None:
        self.kind = kind_of(self.url)
        self.label = f"{self.kind}:{masked(self.url)}"
        self._send: Send | None = None
        self._close: Callable[[], Awaitable[None]] | None = None

    async def connect(self) -> None:
        self._send, self._close = await _connect(self.kind, self.url)

    async def close(self) -> None:
        if self._close is not None:
            await self._close()

    async def publish_pending(self) -> int:
        """Publish what is waiting, up to a batch; how many went out."""
        assert self._send is not None, "connect() first"
        events = await anyio.to_thread.run_sync(self._read)
        sent: list[int] = []
        try:
            for event in events:
                await self._send(destination(event.workspace_id), event.key, outbox.message(event))
                sent.append(event.id)
        finally:
            # What went out is marked even when a later send failed: less to repeat.
            if sent:
                await anyio.to_thread.run_sync(self._mark, sent)
                metrics.BUS_PUBLISHED.labels(str(self.kind)).inc(len(sent))
        return len(sent)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.publish_pending()
            except Exception as exc:
                log.warning("outbound events not published", target=self.label, error=str(exc))
                sent = 0
            if sent < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.idle_wait)

    def _read(self) -> list[OutboundEvent]:
        with self.sessions() as session:
            events = outbox.unpublished(session, self.batch_size)
            session.expunge_all()
            return events

    def _mark(self, ids: list[int]) -> None:
        with self.sessions() as session:
            outbox.mark_published(session, ids)
            session.commit()


async def _connect(kind: Kind, url: str) -> tuple[Send, Callable[[], Awaitable[None]]]:
    if kind is Kind.REDIS:
        import redis.asyncio as aredis

        client = aredis.from_url(url, socket_connect_timeout=3)
        await client.ping()

        async def xadd(to: str, key: str, body: bytes) -> None:
            await client.xadd(to, {"data": body, "key": key})

        return xadd, client.aclose
    if kind is Kind.RABBIT:
        from faststream.rabbit import RabbitBroker, RabbitQueue

        rabbit = RabbitBroker(url, logger=None)
        await rabbit.connect()
        declared: set[str] = set()

        async def to_queue(to: str, key: str, body: bytes) -> None:
            if to not in declared:
                await rabbit.declare_queue(RabbitQueue(to, durable=True))
                declared.add(to)
            await rabbit.publish(body, queue=to, persist=True, headers={"crmsync-key": key})

        return to_queue, rabbit.stop
    if kind is Kind.NATS:
        import nats
        from nats.js.errors import NotFoundError

        nc = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=1)
        js = nc.jetstream()
        try:
            await js.stream_info(NATS_STREAM)
        except NotFoundError:
            await js.add_stream(name=NATS_STREAM, subjects=[f"{PREFIX}.>"])

        async def to_subject(to: str, key: str, body: bytes) -> None:
            await js.publish(to, body, headers={"Crmsync-Key": key})

        return to_subject, nc.close
    from faststream.kafka import KafkaBroker

    from crmsync.bus.adapters.kafka import bootstrap_servers

    kafka = KafkaBroker(bootstrap_servers(url), logger=None)
    await kafka.connect()

    async def to_topic(to: str, key: str, body: bytes) -> None:
        # The key picks the partition, so one record's events stay in order.
        await kafka.publish(body, topic=_topic(to), key=key.encode())

    return to_topic, kafka.stop


def _topic(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
