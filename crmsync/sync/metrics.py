"""Gauges read from the database when /metrics is scraped: the queue, and each
integration's health (the figures of ``GET /api/v1/integrations/{id}/health``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from crmsync.store.models import Integration, ObjectSyncStatus, SyncJob, SyncJobStatus
from crmsync.sync import health


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
            due = SyncJob.status == SyncJobStatus.PENDING, SyncJob.next_attempt_at <= now
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


_HEALTH_GAUGES = (
    ("last_push_timestamp_seconds", "Last successful push (Unix time)"),
    ("last_pull_timestamp_seconds", "Last successful pull (Unix time)"),
    ("lag_seconds", "Age of the oldest change not pushed yet"),
    ("pending_jobs", "Jobs waiting or running"),
    ("dead_letters", "Dead and failed jobs"),
    ("error_rate", "Failed share of the records synced in the last 24 h"),
    ("failing", "1 while the object type fails and backs off"),
)


class HealthCollector(Collector):
    """Per integration and object type: the health report's figures; per integration:
    its shown status and the API quota its CRM reported."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["integration_id", "provider", "object_type"]
        gauges = {
            name: GaugeMetricFamily(f"crmsync_integration_{name}", text, labels=labels)
            for name, text in _HEALTH_GAUGES
        }
        status = GaugeMetricFamily(
            "crmsync_integration_status",
            "1 for the integration's shown status (connected, degraded, needs_auth…)",
            labels=["integration_id", "provider", "status"],
        )
        quota_labels = ["integration_id", "provider", "window"]
        used = GaugeMetricFamily(
            "crmsync_integration_quota_used", "API quota used", labels=quota_labels
        )
        left = GaugeMetricFamily(
            "crmsync_integration_quota_remaining", "API quota left", labels=quota_labels
        )
        with Session(self.engine) as session:
            integrations = list(session.scalars(select(Integration)))
            reports = health.reports(session, integrations, steps=False)
            for integration, report in zip(integrations, reports, strict=True):
                own = [str(integration.id), integration.provider]
                status.add_metric([*own, report.status], 1)
                for item in report.objects:
                    values = {
                        "last_push_timestamp_seconds": _stamp(item.last_push_at),
                        "last_pull_timestamp_seconds": _stamp(item.last_pull_at),
                        "lag_seconds": item.lag_seconds,
                        "pending_jobs": item.pending,
                        "dead_letters": item.dead_letters,
                        "error_rate": item.error_rate,
                        "failing": 1.0 if item.status == ObjectSyncStatus.FAILING else 0.0,
                    }
                    for name, value in values.items():
                        gauges[name].add_metric([*own, item.object_type], value)
                for quota in report.quota:
                    used.add_metric([*own, quota["name"]], quota["used"])
                    left.add_metric([*own, quota["name"]], quota["remaining"])
        yield from gauges.values()
        yield status
        yield used
        yield left


def _stamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0
