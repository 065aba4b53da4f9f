"""Queue gauges read from the database when /metrics is scraped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from crmsync.store.models import SyncJob


class QueueCollector(Collector):
    """Jobs by status, due queue depth and the age of the oldest due job."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = datetime.now(UTC)
        by_status = GaugeMetricFamily("crmsync_sync_jobs", "Sync jobs by status", labels=["status"])
        depth = GaugeMetricFamily("crmsync_sync_queue_depth", "Pending sync jobs that are due")
        oldest = GaugeMetricFamily(
            "crmsync_sync_oldest_pending_seconds", "Age of the oldest due pending job"
        )
        with self.engine.connect() as conn:
            for status, count in conn.execute(
                select(SyncJob.status, func.count()).group_by(SyncJob.status)
            ):
                by_status.add_metric([status], count)
            due = SyncJob.status == "pending", SyncJob.next_attempt_at <= now
            count, first = conn.execute(
                select(func.count(), func.min(SyncJob.enqueued_at)).where(*due)
            ).one()
        depth.add_metric([], count)
        if first is not None and first.tzinfo is None:
            first = first.replace(tzinfo=UTC)
        oldest.add_metric([], (now - first).total_seconds() if first else 0.0)
        yield by_status
        yield depth
        yield oldest
