"""NATS JetStream: a durable pull consumer; a message not acknowledged within the ack wait
(``claim_idle_ms``) is delivered again, to this consumer or another bound to the durable.

The JetStream stream holding the subject is ``?stream=NAME`` on the URL, or
``CRMSYNC_<SUBJECT>`` made if missing (with the subject and its ``.dead`` twin).

Order per key: JetStream hands out new messages in stream order, but it redelivers a
crashed consumer's batch only after the ack wait, and meanwhile delivers newer messages
to whoever pulls as long as fewer than ``max_ack_pending`` are unacknowledged (a batch
read in less than a full fetch leaves room). So a fetched batch is held, not stored,
while the durable reports other messages unacknowledged that may be older (its ack
floor is below the batch) or, when the batch holds redeliveries, may be the rest of the
dead consumer's batch. The consumer keeps fetching meanwhile, so the redeliveries join
the held messages; the whole is stored in stream order. ``may_store`` is the rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import nats
from faststream import AckPolicy, Context
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from faststream.nats.message import NatsBatchMessage
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus.adapters import QUIET
from crmsync.bus.pipeline import Item, Pipeline
from crmsync.bus.spec import SourceSpec


@dataclass(frozen=True, slots=True)
class Held:
    """What a consumer holds: the lowest stream sequence, how many distinct messages, and
    whether any of them was delivered before (to a consumer that may have died)."""

    first: int
    count: int
    redelivered: bool


def may_store(held: Held, ack_floor: int, ack_pending: int, waited: float, ack_wait: float) -> bool:
    """Whether the held messages can be stored now without overtaking an older one.

    ``ack_pending``: messages delivered and not acknowledged, the held ones included;
    ``ack_floor``: the durable's acknowledged stream sequence (everything up to it is
    acknowledged). New messages are delivered in stream order, so when nothing but the
    held messages is unacknowledged, nothing older is left anywhere. Otherwise another
    consumer holds some: older ones (a dead consumer's batch, coming back after its ack
    wait) unless the floor reaches the held messages; and when the held messages are
    redeliveries, the rest of a dead consumer's batch may still be coming back. Wait for
    those (they come to this consumer, which fetches meanwhile, within an ack wait of its
    first look, being older than what it holds), at most twice the ack wait: the floor
    is only moved by acknowledgements, so messages of other subjects of the stream
    between it and the held ones, beside a live twin's newer messages, look the same.
    """
    if ack_pending <= held.count:
        return True
    if ack_floor >= held.first - 1 and not held.redelivered:
        return True  # only newer messages are with another consumer
    return waited >= 2 * ack_wait


def _sequence(msg: Msg) -> int:
    return int(msg.metadata.sequence.stream)


def _item(msg: Msg) -> Item:
    async def nack() -> None:
        await msg.nak()

    return Item(msg.data, str(_sequence(msg)), ack=msg.ack, nack=nack)


async def _quiet(exc: Exception) -> None:
    QUIET.debug("nats: %s", exc)


def stream_name(spec: SourceSpec) -> str:
    named = parse_qs(urlsplit(spec.url).query).get("stream")
    if named:
        return named[0]
    return "CRMSYNC_" + re.sub(r"[^A-Za-z0-9_-]", "_", spec.stream).upper()


def server_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query=""))


class NatsJetStream:
    def __init__(self, spec: SourceSpec, sessions: sessionmaker[Session]) -> None:
        self.spec = spec
        self.stream = stream_name(spec)
        self.pipeline = Pipeline(spec, sessions, self._dead_letter)
        self.broker = NatsBroker(server_url(spec.url), logger=QUIET, connect_timeout=3)
        self.ack_wait = spec.claim_idle_ms / 1000
        self.subscriber: Any = self.broker.subscriber(
            spec.stream,
            stream=JStream(self.stream, declare=False),
            durable=spec.group,
            # One handler call per fetch, its messages in order (per-message handlers
            # may finish out of order).
            pull_sub=PullSub(
                batch_size=spec.batch_size, timeout=spec.max_wait_ms / 1000, batch=True
            ),
            # At most a batch unacknowledged, so a consumer holding a batch back
            # (``may_store``) holds little, and a dead one's batch is one batch.
            config=ConsumerConfig(ack_wait=self.ack_wait, max_ack_pending=spec.batch_size),
            ack_policy=AckPolicy.MANUAL,
        )
        self.subscriber(self._handle)
        self._nc: nats.NATS | None = None
        self.held_back = 0  # batches that waited for older messages (tests, debugging)

    async def connect(self) -> None:
        # Fail fast when the server is down (nats-py's default retries the first
        # connection for ever); the consumer's own connection reconnects as usual.
        self._nc = await nats.connect(
            server_url(self.spec.url),
            connect_timeout=3,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.1,
            error_cb=_quiet,
        )
        js = self._nc.jetstream()
        try:
            await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(
                name=self.stream, subjects=[self.spec.stream, self.spec.dead_letters]
            )

    async def start(self) -> None:
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()
        if self._nc is not None:
            await self._nc.close()

    async def _handle(self, msg: Annotated[NatsBatchMessage, Context("message")]) -> None:
        held = {_sequence(m): m for m in msg.raw_message}
        if not await self._hold_until_in_order(held):
            return  # stopping: what is held is delivered again after the ack wait
        batch = [held[seq] for seq in sorted(held)]

        async def ack_all() -> None:
            for m in batch[:-1]:
                await m.ack()
            # Answered once the server has taken the batch's acks (they are processed in
            # order): the next batch's look at what is unacknowledged then sees them.
            with contextlib.suppress(Exception):
                await batch[-1].ack_sync(timeout=max(self.ack_wait, 1.0))

        await self.pipeline.run([_item(m) for m in batch], ack_all=ack_all)

    async def _hold_until_in_order(self, held: dict[int, Msg]) -> bool:
        """Fetch more into ``held`` until ``may_store`` says it can be stored; False when
        the source stops meanwhile."""
        loop = asyncio.get_running_loop()
        since = loop.time()
        if await self._may_store(held, 0.0):
            return True
        self.held_back += 1
        while not await self._may_store(held, loop.time() - since):
            if self.pipeline.stopping.is_set():
                return False
            # Keep them ours (restart their ack wait), and take what comes back.
            for m in held.values():
                await m.in_progress()
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                more = await self.subscriber.subscription.fetch(
                    batch=self.spec.batch_size, timeout=min(0.25, self.ack_wait / 4)
                )
                for m in more:
                    held[_sequence(m)] = m
        return True

    async def _may_store(self, held: dict[int, Msg], waited: float) -> bool:
        assert self._nc is not None
        info = await self._nc.jetstream().consumer_info(self.stream, self.spec.group)
        state = Held(
            first=min(held),
            count=len(held),
            redelivered=any(m.metadata.num_delivered > 1 for m in held.values()),
        )
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        return may_store(state, floor or 0, info.num_ack_pending or 0, waited, self.ack_wait)

    async def _dead_letter(self, dead: list[tuple[Item, str]]) -> None:
        assert self._nc is not None
        js = self._nc.jetstream()
        for item, reason in dead:
            await js.publish(
                self.spec.dead_letters,
                item.payload or b"",
                headers={"Crmsync-Reason": reason, "Crmsync-Sequence": item.ref},
            )

    async def lag(self) -> int | None:
        assert self._nc is not None
        info = await self._nc.jetstream().consumer_info(self.stream, self.spec.group)
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)
