"""The dead-letter queue: jobs that failed for good, and replaying them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.store.models import SyncJob, SyncJobStatus

REPLAYABLE = (SyncJobStatus.DEAD, SyncJobStatus.FAILED)


def list_jobs(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    status: str | None = SyncJobStatus.DEAD,
    integration_id: uuid.UUID | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[SyncJob]:
    """Jobs of a workspace, oldest first, keyset-paged by id."""
    stmt = select(SyncJob).where(SyncJob.workspace_id == workspace_id)
    if status:
        stmt = stmt.where(SyncJob.status == status)
    if integration_id:
        stmt = stmt.where(SyncJob.integration_id == integration_id)
    if after_id is not None:
        stmt = stmt.where(SyncJob.id > after_id)
    return list(session.scalars(stmt.order_by(SyncJob.id).limit(limit)))


def replay(session: Session, workspace_id: uuid.UUID, job_id: int) -> SyncJob | None:
    """Queue a dead or failed job again with fresh attempts; None if there is no such job.

    If the record already has a pending job, that one carries the work and this one stays.
    """
    job = session.get(SyncJob, job_id)
    if job is None or job.workspace_id != workspace_id:
        return None
    if job.status not in REPLAYABLE:
        raise ValueError(f"job {job_id} is {job.status}; only dead or failed jobs are replayed")
    twin = session.scalar(
        select(SyncJob.id).where(
            SyncJob.status == SyncJobStatus.PENDING,
            SyncJob.integration_id == job.integration_id,
            SyncJob.object_type == job.object_type,
            SyncJob.record_id == job.record_id,
            SyncJob.operation == job.operation,
        )
    )
    if twin is None:
        _requeue(job)
    return job


def replay_all(
    session: Session, workspace_id: uuid.UUID, integration_id: uuid.UUID | None = None
) -> int:
    """Queue every dead job of the workspace (or one integration) again; returns how many."""
    count = 0
    for job in list_jobs(session, workspace_id, integration_id=integration_id, limit=100_000):
        if (
            replay(session, workspace_id, job.id) is not None
            and job.status == SyncJobStatus.PENDING
        ):
            count += 1
        session.flush()  # the next job's twin check sees this one
    return count


def _requeue(job: SyncJob) -> None:
    job.status = SyncJobStatus.PENDING
    job.attempts = 0
    job.next_attempt_at = datetime.now(UTC)
    job.lease_owner = None
    job.lease_expires_at = None


def counts_by_status(session: Session, workspace_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(
        select(SyncJob.status, func.count())
        .where(SyncJob.workspace_id == workspace_id)
        .group_by(SyncJob.status)
    )
    return {status: int(n) for status, n in rows}
