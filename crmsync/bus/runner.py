"""The bus inside ``crmsync worker`` (and ``serve``'s in-process worker): every enabled
configured source, and the outbox publisher when ``CRMSYNC_BUS_PUBLISH_URL`` is set.

It runs in a thread with its own event loop, so the sync worker and the API go on
whatever the brokers do. A broker that cannot be reached is one error line in the log
and the source's ``error`` status, then retried with backoff (1 s doubling to 60 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid

import anyio
import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus import sources
from crmsync.bus.publisher import OutboxPublisher
from crmsync.bus.runtime import BrokerUnreachable, SourceRunner
from crmsync.bus.spec import SourceSpec, masked

log = structlog.get_logger(__name__)


class BusRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        publish_url: str | None = None,
        *,
        refresh: float = 10.0,
        max_backoff: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.publish_url = publish_url
        self.refresh = refresh
        self.max_backoff = max_backoff
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run_thread, name="crmsync-bus", daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def stop(self, timeout: float = 30) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def _run_thread(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = stop = asyncio.Event()
        self._ready.set()
        running: dict[uuid.UUID, tuple[SourceSpec, asyncio.Task[None]]] = {}
        if self.publish_url:
            publisher = asyncio.create_task(self._publish(self.publish_url, stop))
        while not stop.is_set():
            try:
                specs = await anyio.to_thread.run_sync(self._enabled)
            except Exception as exc:
                log.warning("bus sources not read", error=str(exc))
                specs = [spec for spec, _ in running.values()]
            wanted = {s.source_id: s for s in specs if s.source_id is not None}
            for source_id, (spec, task) in list(running.items()):
                if wanted.get(source_id) != spec or task.done():
                    task.cancel()
                    del running[source_id]
            for source_id, spec in wanted.items():
                if source_id not in running:
                    running[source_id] = (spec, asyncio.create_task(self._keep(spec, stop)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.refresh)
        tasks = [task for _, task in running.values()]
        if self.publish_url:
            tasks.append(publisher)
        await asyncio.gather(*tasks, return_exceptions=True)

    def _enabled(self) -> list[SourceSpec]:
        with self.sessions() as session:
            return sources.enabled_specs(session)

    async def _keep(self, spec: SourceSpec, stop: asyncio.Event) -> None:
        """Run one source until stopped, reconnecting with backoff."""
        backoff = 1.0
        while not stop.is_set():
            try:
                await SourceRunner(spec, self.sessions).run(stop)
                backoff = 1.0
            except BrokerUnreachable as exc:
                log.error(str(exc))
            except Exception as exc:
                log.error(
                    "bus source stopped",
                    source=spec.label,
                    error=f"{type(exc).__name__}: {exc}".splitlines()[0],
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _publish(self, url: str, stop: asyncio.Event) -> None:
        backoff = 1.0
        while not stop.is_set():
            publisher = OutboxPublisher(url, self.sessions)
            try:
                await publisher.connect()
                backoff = 1.0
                await publisher.run(stop)
            except Exception as exc:
                detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
                log.error(f"cannot publish outbound events to {masked(url)}: {detail}")
            finally:
                with contextlib.suppress(Exception):
                    await publisher.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, self.max_backoff)
