"""NATS JetStream: a durable pull consumer; a message not acknowledged within the ack wait
(``claim_idle_ms``) is delivered again, to this consumer or another bound to the durable.

The JetStream stream holding the subject is ``?stream=NAME`` on the URL, or
``CRMSYNC_<SUBJECT>`` made if missing (with the subject and its ``.dead`` twin).
"""

from __future__ import annotations

import re
from typing import Annotated
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


def _item(msg: Msg) -> Item:
    async def nack() -> None:
        await msg.nak()

    return Item(msg.data, str(msg.metadata.sequence.stream), ack=msg.ack, nack=nack)


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
        self.broker.subscriber(
            spec.stream,
            stream=JStream(self.stream, declare=False),
            durable=spec.group,
            # One handler call per fetch, its messages in order (per-message handlers
            # may finish out of order).
            pull_sub=PullSub(
                batch_size=spec.batch_size, timeout=spec.max_wait_ms / 1000, batch=True
            ),
            # At most a batch unacknowledged: after a crash, nothing newer is delivered
            # until the dead consumer's batch comes back (ack wait), so a key keeps its order.
            config=ConsumerConfig(
                ack_wait=spec.claim_idle_ms / 1000, max_ack_pending=spec.batch_size
            ),
            ack_policy=AckPolicy.MANUAL,
        )(self._handle)
        self._nc: nats.NATS | None = None

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
        await self.pipeline.run([_item(m) for m in msg.raw_message])

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
