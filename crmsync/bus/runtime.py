"""Run one source: connect (or say in one line why not), consume, report status each second.

The status row (``BusSource``) gets counts, lag, heartbeat and errors; its ``paused``
flag closes the pipeline's gate, so a paused consumer holds its messages unacknowledged
and reads no more until resumed.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import anyio
import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus import metrics, sources
from crmsync.bus.adapters import adapter_for
from crmsync.bus.spec import SourceSpec, masked
from crmsync.store.models import BusSourceStatus

log = structlog.get_logger(__name__)


class BrokerUnreachable(Exception):
    """The broker of a source cannot be reached; the message is one line for the operator."""


def unreachable(spec: SourceSpec, exc: BaseException) -> BrokerUnreachable:
    detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return BrokerUnreachable(
        f"cannot reach the {spec.kind} broker at {masked(spec.url)} (source {spec.label}): {detail}"
    )


class SourceRunner:
    def __init__(
        self, spec: SourceSpec, sessions: sessionmaker[Session], report_every: float = 1.0
    ) -> None:
        self.spec = spec
        self.sessions = sessions
        self.report_every = report_every
        self.adapter = adapter_for(spec, sessions)

    async def connect(self, timeout: float = 5.0) -> None:
        try:
            with anyio.fail_after(timeout):
                await self.adapter.connect()
        except Exception as exc:
            raise unreachable(self.spec, exc) from None

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, consume until ``stop`` is set, then stop cleanly (batches finish)."""
        try:
            await self.connect()
        except BrokerUnreachable as exc:
            await self._report(BusSourceStatus.ERROR, str(exc))
            raise
        await self.adapter.start()
        try:
            while not stop.is_set():
                await self._report(BusSourceStatus.RUNNING)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.report_every)
        finally:
            # A batch held by a pause or a failing store must not keep the stop waiting.
            self.adapter.pipeline.stopping.set()
            self.adapter.pipeline.open.set()
            await self.adapter.stop()
            await self._report(BusSourceStatus.IDLE)

    async def _report(self, status: BusSourceStatus, error: str | None = None) -> None:
        pipeline = self.adapter.pipeline
        lag: int | None = None
        if status == BusSourceStatus.RUNNING:
            try:
                lag = await self.adapter.lag()
            except Exception:  # lag is a nicety; the next round asks again
                lag = None
            if lag is not None:
                metrics.BUS_LAG.labels(self.spec.label).set(lag)
        if self.spec.source_id is None:
            return
        counts = pipeline.counts.take_unreported()
        last = pipeline.counts.last_message_at
        source_id = self.spec.source_id

        def write() -> bool:
            with self.sessions() as session:
                paused = sources.report(
                    session,
                    source_id,
                    counts=counts,
                    lag=lag,
                    status=status,
                    error=error,
                    last_message_at=datetime.fromtimestamp(last, UTC) if last else None,
                )
                session.commit()
                return paused

        try:
            paused = await anyio.to_thread.run_sync(write)
        except Exception as exc:
            log.warning("bus source status not written", source=self.spec.label, error=str(exc))
            return
        gate = pipeline.open
        if paused:
            gate.clear()
        else:
            gate.set()
