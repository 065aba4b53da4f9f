"""Syncs a person asks for: push everything (backfill), or pull now (incremental or full),
and what an integration's sync looks like from outside (status and logs)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crmsync.integrations.config import SyncConfig
from crmsync.mapping.direction import Direction
from crmsync.store.models import (
    RECORD_MODELS,
    Integration,
    SyncJob,
    SyncJobStatus,
    SyncRun,
    SyncRunStatus,
)
from crmsync.sync import health, outbox

_BACKFILL_CHUNK = 1000


def request_sync(session: Session, integration: Integration, *, full: bool) -> dict[str, int]:
    """Queue a manual sync: outbound backfill of every live record of the pushed types,
    and an inbound poll of every pulled type (from the beginning when ``full``).
    Returns counts per direction; the worker does the work."""
    config = SyncConfig.model_validate(integration.config or {})
    pushed = 0
    for object_type in config.objects:
        if not config.pushes(object_type) or object_type not in RECORD_MODELS:
            continue
        model = RECORD_MODELS[object_type]
        ids = list(
            session.scalars(
                select(model.id).where(
                    model.workspace_id == integration.workspace_id, model.deleted_at.is_(None)
                )
            )
        )
        for start in range(0, len(ids), _BACKFILL_CHUNK):
            pushed += outbox.enqueue(
                session,
                integration.workspace_id,
                object_type,
                ids[start : start + _BACKFILL_CHUNK],
                priority=outbox.Priority.BACKFILL,
                only=integration.id,
            )
    pulls = [o for o in config.objects if config.pulls(o)]
    for object_type in pulls:
        session.add(
            SyncRun(
                workspace_id=integration.workspace_id,
                integration_id=integration.id,
                kind="full" if full else "manual",
                direction=Direction.INBOUND,
                object_type=object_type,
                status=SyncRunStatus.QUEUED,
            )
        )
    return {"outbound_jobs": pushed, "inbound_polls": len(pulls)}


def queued_polls(session: Session) -> list[tuple[uuid.UUID, uuid.UUID, str, str]]:
    """Queued manual polls as (request id, integration, object type, kind), oldest first.

    A request stays queued until a worker that holds the stream's poll lock takes it
    (``take_queued_poll``): one seen while another worker polls the stream is kept, not
    dropped (that poll may have begun before the request, or be incremental)."""
    rows = session.execute(
        select(SyncRun.id, SyncRun.integration_id, SyncRun.object_type, SyncRun.kind)
        .where(SyncRun.status == SyncRunStatus.QUEUED)
        .order_by(SyncRun.started_at)
    ).all()
    session.rollback()
    return [(r.id, r.integration_id, str(r.object_type), r.kind) for r in rows]


def take_queued_poll(session: Session, request_id: uuid.UUID) -> bool:
    """Remove a queued request; False when another worker took it first. Commits."""
    result = session.execute(
        delete(SyncRun).where(SyncRun.id == request_id, SyncRun.status == SyncRunStatus.QUEUED)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def sync_status(session: Session, integration: Integration) -> dict[str, Any]:
    """The integration's state, queue counts and the last run per stream."""
    jobs = dict(
        session.execute(
            select(SyncJob.status, func.count())
            .where(SyncJob.integration_id == integration.id)
            .group_by(SyncJob.status)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(SyncJob.enqueued_at)).where(
            SyncJob.integration_id == integration.id, SyncJob.status == SyncJobStatus.PENDING
        )
    )
    last_runs: dict[str, dict[str, Any]] = {}
    for run in session.scalars(
        select(SyncRun)
        .where(SyncRun.integration_id == integration.id, SyncRun.status != SyncRunStatus.QUEUED)
        .order_by(SyncRun.started_at.desc())
        .limit(200)
    ):
        key = f"{run.direction}:{run.object_type}"
        last_runs.setdefault(key, run_out(run))
    return {
        "integration_id": integration.id,
        "status": health.summaries(session, [integration])[integration.id]["status"],
        "last_error": integration.last_error,
        "jobs": {
            s: int(jobs.get(s, 0))
            for s in (
                SyncJobStatus.PENDING,
                SyncJobStatus.RUNNING,
                SyncJobStatus.FAILED,
                SyncJobStatus.DEAD,
            )
        },
        "oldest_pending_seconds": (
            (datetime.now(UTC) - oldest).total_seconds() if oldest else None
        ),
        "last_runs": last_runs,
    }


def run_out(run: SyncRun) -> dict[str, Any]:
    return {
        name: getattr(run, name)
        for name in (
            "id",
            "kind",
            "direction",
            "object_type",
            "status",
            "processed",
            "succeeded",
            "failed",
            "skipped",
            "started_at",
            "finished_at",
            "duration_ms",
            "errors",
        )
    }


def sync_logs(
    session: Session, integration: Integration, *, limit: int, before: datetime | None
) -> list[SyncRun]:
    stmt = select(SyncRun).where(
        SyncRun.integration_id == integration.id, SyncRun.status != SyncRunStatus.QUEUED
    )
    if before is not None:
        stmt = stmt.where(SyncRun.started_at < before)
    return list(session.scalars(stmt.order_by(SyncRun.started_at.desc()).limit(limit)))
