"""Redis Streams: a consumer group, batches of entries, XAUTOCLAIM of a dead consumer's.

An entry's message is its ``data`` field (``XADD stream * data '{...}'``). Before it
reads new entries, a consumer takes in its own unacknowledged ones (a restart under the
same name) and claims the group's entries idle longer than ``claim_idle_ms`` (another
consumer that died); it claims again every half of that while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import redis.asyncio as aredis
from faststream import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisStreamMessage
from redis.exceptions import ResponseError
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus.adapters import QUIET
from crmsync.bus.pipeline import Item, Pipeline
from crmsync.bus.spec import SourceSpec

Entry = tuple[bytes, dict[bytes, bytes]]


def _item(entry_id: bytes, fields: dict[bytes, bytes]) -> Item:
    ref = entry_id.decode()
    if b"data" not in fields:
        return Item(None, ref, poison="stream entry has no 'data' field")
    return Item(fields[b"data"], ref)


class RedisStreams:
    def __init__(self, spec: SourceSpec, sessions: sessionmaker[Session]) -> None:
        self.spec = spec
        self.client: aredis.Redis = aredis.from_url(spec.url, socket_connect_timeout=3)
        self.pipeline = Pipeline(spec, sessions, self._dead_letter)
        self.broker = RedisBroker(spec.url, logger=QUIET, socket_connect_timeout=3)
        subscriber = self.broker.subscriber(
            stream=StreamSub(
                spec.stream,
                group=spec.group,
                consumer=spec.consumer,
                batch=True,
                max_records=spec.batch_size,
                polling_interval=100,
            ),
            ack_policy=AckPolicy.MANUAL,
        )
        subscriber(self._handle)
        self._claimer: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self.client.ping()
        try:
            # From the stream's start: messages sent before crmsync first ran are read too.
            await self.client.xgroup_create(self.spec.stream, self.spec.group, "0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def start(self) -> None:
        await self._own_pending()
        await self._take_over()
        await self.broker.start()
        self._claimer = asyncio.create_task(self._claim_forever())

    async def stop(self) -> None:
        if self._claimer is not None:
            self._claimer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._claimer
        await self.broker.stop()
        await self.client.aclose()

    async def _handle(self, msg: RedisStreamMessage) -> None:
        raw: Any = msg.raw_message
        entries = zip(raw["message_ids"], raw["data"], strict=True)
        await self.pipeline.run([_item(i, f) for i, f in entries], ack_all=msg.ack)

    async def _take(self, entries: list[Entry]) -> bool:
        ids = [entry_id for entry_id, _ in entries]

        async def ack() -> None:
            await self.client.xack(self.spec.stream, self.spec.group, *ids)

        return await self.pipeline.run([_item(i, f) for i, f in entries], ack_all=ack)

    async def _own_pending(self) -> None:
        """Entries delivered to this consumer name and never acknowledged (it restarted)."""
        start = "0"
        while True:
            reply: Any = await self.client.xreadgroup(
                self.spec.group,
                self.spec.consumer,
                {self.spec.stream: start},
                count=self.spec.batch_size,
            )
            entries = [e for e in (reply[0][1] if reply else []) if e[1]]
            if not entries:
                return
            if not await self._take(entries):
                return
            start = entries[-1][0].decode()

    async def reclaim(self) -> int:
        """Claim and take in entries other consumers left idle; how many were claimed."""
        start, claimed = "0-0", 0
        while True:
            reply: Any = await self.client.xautoclaim(
                self.spec.stream,
                self.spec.group,
                self.spec.consumer,
                min_idle_time=self.spec.claim_idle_ms,
                start_id=start,
                count=self.spec.batch_size,
            )
            start, entries = reply[0], [e for e in reply[1] if e[1]]
            if entries:
                claimed += len(entries)
                if not await self._take(entries):
                    return claimed
            if start in (b"0-0", "0-0"):
                return claimed

    async def _take_over(self) -> None:
        """Claim what other consumers left before reading anything new, so a dead
        consumer's entries (older) are stored before newer ones of the same key. Entries
        a live consumer holds are acknowledged meanwhile; a dead one's become claimable
        after ``claim_idle_ms``: wait at most that long (and a second) for them."""
        deadline = asyncio.get_running_loop().time() + self.spec.claim_idle_ms / 1000 + 1
        while True:
            await self.reclaim()
            held: Any = await self.client.xpending_range(
                self.spec.stream, self.spec.group, min="-", max="+", count=100
            )
            others = [h for h in held if h["consumer"].decode() != self.spec.consumer]
            if not others or asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(min(0.2, self.spec.claim_idle_ms / 2000))

    async def _claim_forever(self) -> None:
        while True:
            await asyncio.sleep(max(self.spec.claim_idle_ms / 2000, 0.05))
            try:
                await self.reclaim()
            except Exception as exc:  # the next round tries again
                QUIET.warning("reclaim failed: %s", exc)

    async def _dead_letter(self, dead: list[tuple[Item, str]]) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for item, reason in dead:
                pipe.xadd(
                    self.spec.dead_letters,
                    {"data": item.payload or b"", "reason": reason, "entry_id": item.ref},
                )
            await pipe.execute()

    async def lag(self) -> int | None:
        for group in await self.client.xinfo_groups(self.spec.stream):
            name = group["name"]
            if (name.decode() if isinstance(name, bytes) else name) == self.spec.group:
                return int(group.get("lag") or 0) + int(group.get("pending") or 0)
        return None
