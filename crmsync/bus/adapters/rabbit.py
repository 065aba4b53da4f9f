"""RabbitMQ: a durable queue, manual acks after commit, requeue of what was not stored.

A consumer that dies holds its unacknowledged messages only as long as its connection:
RabbitMQ then requeues them for the next consumer. Prefetch is the batch size.
"""

from __future__ import annotations

import asyncio

from faststream import AckPolicy
from faststream.rabbit import Channel, RabbitBroker, RabbitQueue
from faststream.rabbit.annotations import RabbitMessage
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus.adapters import QUIET
from crmsync.bus.pipeline import Batcher, Item, Pipeline
from crmsync.bus.spec import SourceSpec


class RabbitQueueSource:
    def __init__(self, spec: SourceSpec, sessions: sessionmaker[Session]) -> None:
        self.spec = spec
        self.pipeline = Pipeline(spec, sessions, self._dead_letter)
        self.batcher = Batcher(self.pipeline, spec.batch_size, spec.max_wait_ms / 1000)
        self.queue = RabbitQueue(spec.stream, durable=True)
        self.dead_queue = RabbitQueue(spec.dead_letters, durable=True)
        self.broker = RabbitBroker(
            spec.url,
            logger=QUIET,
            default_channel=Channel(prefetch_count=spec.batch_size),
        )
        self.broker.subscriber(self.queue, ack_policy=AckPolicy.MANUAL)(self._handle)
        self._arrived: dict[int, tuple[float, Item]] = {}
        self._next_tag = 1
        self._in_order = asyncio.Lock()
        self._gaps: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self.broker.connect()
        await self.broker.declare_queue(self.queue)
        await self.broker.declare_queue(self.dead_queue)

    async def start(self) -> None:
        await self.broker.start()
        self._gaps = asyncio.create_task(self._skip_gaps())

    async def stop(self) -> None:
        if self._gaps is not None:
            self._gaps.cancel()
        await self.batcher.close()
        await self.broker.stop()

    async def _handle(self, msg: RabbitMessage) -> None:
        """aio-pika runs each delivery's handler as its own task, so handlers can finish
        out of order; the channel's delivery tags (1, 2, 3, ...) put them back in order."""

        async def nack() -> None:
            await msg.nack(requeue=True)

        tag = int(msg.raw_message.delivery_tag or 0)
        loop = asyncio.get_running_loop()
        self._arrived[tag] = (
            loop.time(),
            Item(msg.body, msg.message_id or "", ack=msg.ack, nack=nack),
        )
        await self._release()

    async def _release(self) -> None:
        async with self._in_order:
            while self._next_tag in self._arrived:
                _, item = self._arrived.pop(self._next_tag)
                self._next_tag += 1
                await self.batcher.put(item)

    async def _skip_gaps(self) -> None:
        """A tag that never comes (the channel was reopened after a lost connection and
        numbers from 1 again; its old messages are requeued by RabbitMQ) must not hold
        the others: after a second, go on from the oldest tag waiting."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.5)
            if self._arrived and self._next_tag not in self._arrived:
                oldest = min(at for at, _ in self._arrived.values())
                if loop.time() - oldest > 1.0:
                    self._next_tag = min(self._arrived)
                    await self._release()

    async def _dead_letter(self, dead: list[tuple[Item, str]]) -> None:
        for item, reason in dead:
            await self.broker.publish(
                item.payload or b"",
                queue=self.dead_queue,
                headers={"x-crmsync-reason": reason, "x-crmsync-message-id": item.ref},
                persist=True,
            )

    async def lag(self) -> int | None:
        queue = await self.broker.declare_queue(self.queue)
        result = queue.declaration_result
        if result is None or result.message_count is None:
            return None
        return int(result.message_count)
