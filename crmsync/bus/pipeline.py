"""The one path every message takes, whatever the broker: store, commit, dead-letter, ack.

A batch is stored by ``intake.take_in`` in one transaction (in a thread: the store is
synchronous); only after the commit are its dead letters published and then the whole
batch acknowledged. Batches of one source run one at a time (``lock``), in the order
they were read, so a key's messages are stored in the order they arrived. A failed
commit acknowledges nothing and is tried again in place (backing off to
``retry_after``); a consumer stopped meanwhile hands the batch back (``nack``), and the
broker redelivers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus import metrics
from crmsync.bus.intake import Intake, Workspaces, take_in
from crmsync.bus.spec import SourceSpec

log = structlog.get_logger(__name__)

Callback = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


@dataclass(slots=True)
class Item:
    """One message as read: its body, or why the broker's shape already makes it poison."""

    payload: bytes | None
    ref: str = ""  # the broker's id for it (stream entry id, offset, ...), kept with a dead letter
    poison: str | None = None
    ack: Callback = _nothing
    nack: Callback = _nothing


DeadLetter = Callable[[list[tuple[Item, str]]], Awaitable[None]]


@dataclass
class Counts:
    """Totals since start, and since the status row was last written."""

    stored: int = 0
    duplicates: int = 0
    dead: int = 0
    last_message_at: float | None = None
    unreported: dict[str, int] = field(
        default_factory=lambda: {"stored": 0, "duplicates": 0, "dead": 0}
    )

    def add(self, result: Intake, dead: int) -> None:
        self.stored += result.stored
        self.duplicates += result.duplicates
        self.dead += dead
        self.unreported["stored"] += result.stored
        self.unreported["duplicates"] += result.duplicates
        self.unreported["dead"] += dead
        self.last_message_at = time.time()

    def take_unreported(self) -> dict[str, int]:
        out, self.unreported = self.unreported, {"stored": 0, "duplicates": 0, "dead": 0}
        return out


class Pipeline:
    def __init__(
        self,
        spec: SourceSpec,
        sessions: sessionmaker[Session],
        dead_letter: DeadLetter,
        *,
        retry_after: float = 2.0,
    ) -> None:
        self.spec = spec
        self.sessions = sessions
        self.dead_letter = dead_letter
        self.retry_after = retry_after
        self.lock = asyncio.Lock()
        self.open = asyncio.Event()  # cleared while the source is paused
        self.open.set()
        self.stopping = asyncio.Event()
        self.counts = Counts()
        self._workspaces = Workspaces()
        self._label = spec.label

    async def run(
        self,
        items: list[Item],
        ack_all: Callback | None = None,
        nack_all: Callback | None = None,
    ) -> bool:
        """Store, dead-letter and acknowledge ``items``; False when the store failed and
        they were handed back instead."""
        if not items:
            return True
        await self.open.wait()
        async with self.lock:
            started = time.perf_counter()
            readable = [i for i in items if i.poison is None]
            result = await self._store_retrying(readable)
            if result is None:  # stopping while the store fails: hand the batch back
                if nack_all is not None:
                    await nack_all()
                for item in reversed(items):
                    await item.nack()
                return False
            reasons = {id(i): i.poison for i in items if i.poison is not None}
            reasons.update({id(readable[d.index]): d.reason for d in result.dead})
            dead = [(i, reasons[id(i)]) for i in items if reasons.get(id(i))]
            if dead:
                await self.dead_letter(dead)
            if ack_all is not None:
                await ack_all()
            else:
                for item in items:
                    await item.ack()
            self.counts.add(result, len(dead))
            metrics.BUS_MESSAGES.labels(self._label, "stored").inc(result.stored)
            metrics.BUS_MESSAGES.labels(self._label, "duplicate").inc(result.duplicates)
            metrics.BUS_MESSAGES.labels(self._label, "dead").inc(len(dead))
            metrics.BUS_BATCH_SECONDS.labels(self._label).observe(time.perf_counter() - started)
            return True

    async def _store_retrying(self, items: list[Item]) -> Intake | None:
        """Store the batch, retrying in place while the store fails (a locked SQLite, a
        PostgreSQL restart): the batch keeps its place, so nothing overtakes it. None
        when the source is being stopped meanwhile."""
        wait = 0.02
        while True:
            try:
                return await anyio.to_thread.run_sync(self._store, items)
            except Exception as exc:
                log.warning(
                    "bus batch not stored; trying again",
                    source=self._label,
                    messages=len(items),
                    error=f"{type(exc).__name__}: {exc}".splitlines()[0],
                )
            if self.stopping.is_set():
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), wait)
            wait = min(wait * 2, self.retry_after)

    def _store(self, items: list[Item]) -> Intake:
        with self.sessions() as session:
            result = take_in(
                session,
                [i.payload or b"" for i in items],
                workspace_id=self.spec.workspace_id,
                workspaces=self._workspaces,
                source=f"bus:{self._label}",
            )
            session.commit()
        return result


class Batcher:
    """Gathers messages a broker hands over one at a time into batches for ``Pipeline``.

    ``put`` returns once its message is in a batch being stored when the batch is full
    (so a full batch holds the broker back), else at once; a batch not full is stored
    after ``max_wait`` seconds.
    """

    def __init__(self, pipeline: Pipeline, size: int, max_wait: float) -> None:
        self.pipeline = pipeline
        self.size = size
        self.max_wait = max_wait
        self._items: list[Item] = []
        self._timer: asyncio.Task[None] | None = None

    async def put(self, item: Item) -> None:
        self._items.append(item)
        if len(self._items) >= self.size:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.max_wait)
        self._timer = None
        await self.flush()

    async def flush(self) -> None:
        items, self._items = self._items, []
        await self.pipeline.run(items)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self.flush()
