"""Claiming, leasing and settling outbox jobs.

A worker claims a group of due jobs of one integration and object type (so the group can
go out in one batch call), holding a lease it renews by heartbeat. Claims are safe with
many workers: PostgreSQL skips rows another claim has locked, and the claim's UPDATE only
takes rows still ``pending``, so a job is never running twice. Two jobs of one record
never run at once: a record with a running job is not claimed again until it settles.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from crmsync.metrics import SYNC_JOBS_SETTLED
from crmsync.store.models import Integration, SyncJob

DEFAULT_LEASE = timedelta(seconds=60)
# SQLite runs one process: its worker threads take turns to claim, instead of racing to
# upgrade read snapshots to write locks (which SQLite refuses rather than waits for).
_SQLITE_CLAIMS = threading.Lock()


@dataclass(frozen=True)
class Claim:
    """Jobs of one integration and object type, leased to one worker."""

    integration_id: uuid.UUID
    object_type: str
    jobs: list[SyncJob]


def _due(now: datetime) -> ColumnElement[bool]:
    running = aliased(SyncJob)
    busy_record = exists().where(
        running.status == "running",
        running.integration_id == SyncJob.integration_id,
        running.object_type == SyncJob.object_type,
        running.record_id == SyncJob.record_id,
    )
    return and_(
        SyncJob.status == "pending",
        SyncJob.next_attempt_at <= now,
        ~busy_record,
        SyncJob.integration_id.in_(select(Integration.id).where(Integration.status == "connected")),
    )


def claim(
    session: Session,
    worker_id: str,
    *,
    batch_limit: Callable[[uuid.UUID, str], int],
    lease: timedelta = DEFAULT_LEASE,
    now: datetime | None = None,
) -> Claim | None:
    """Lease the most urgent due group of jobs; None when nothing is due. Commits."""
    if session.get_bind().dialect.name == "sqlite":
        with _SQLITE_CLAIMS:
            return _claim(session, worker_id, batch_limit, lease, now, skip_locked=False)
    return _claim(session, worker_id, batch_limit, lease, now, skip_locked=True)


def _claim(
    session: Session,
    worker_id: str,
    batch_limit: Callable[[uuid.UUID, str], int],
    lease: timedelta,
    now: datetime | None,
    *,
    skip_locked: bool,
) -> Claim | None:
    now = now or datetime.now(UTC)
    head_query = (
        select(SyncJob.integration_id, SyncJob.object_type)
        .where(_due(now))
        .order_by(SyncJob.priority, SyncJob.next_attempt_at, SyncJob.id)
        .limit(1)
    )
    if skip_locked:
        head_query = head_query.with_for_update(skip_locked=True, of=SyncJob)
    head = session.execute(head_query).first()
    if head is None:
        session.rollback()
        return None
    integration_id, object_type = head
    group_query = (
        select(SyncJob.id, SyncJob.record_id)
        .where(
            _due(now), SyncJob.integration_id == integration_id, SyncJob.object_type == object_type
        )
        .order_by(SyncJob.priority, SyncJob.next_attempt_at, SyncJob.id)
        .limit(max(1, batch_limit(integration_id, object_type)))
    )
    if skip_locked:
        group_query = group_query.with_for_update(skip_locked=True, of=SyncJob)
    ids: list[int] = []
    seen: set[uuid.UUID] = set()
    for job_id, record_id in session.execute(group_query):
        if record_id not in seen:  # one job per record at a time (its other op waits)
            seen.add(record_id)
            ids.append(job_id)
    try:
        taken = list(
            session.scalars(
                update(SyncJob)
                .where(SyncJob.id.in_(ids), SyncJob.status == "pending")
                .values(
                    status="running",
                    lease_owner=worker_id,
                    lease_expires_at=now + lease,
                    updated_at=now,
                )
                .returning(SyncJob.id)
            )
        )
        session.commit()
    except IntegrityError:
        # Another worker started one of these records a moment ago (the running-job
        # index refuses a second): leave the group for the next round.
        session.rollback()
        return None
    if not taken:
        return None
    jobs = list(session.scalars(select(SyncJob).where(SyncJob.id.in_(taken)).order_by(SyncJob.id)))
    return Claim(integration_id, object_type, jobs)


def heartbeat(
    session: Session, worker_id: str, job_ids: Sequence[int], lease: timedelta = DEFAULT_LEASE
) -> int:
    """Extend the lease of this worker's running jobs; returns how many it still holds."""
    now = datetime.now(UTC)
    result = session.execute(
        update(SyncJob)
        .where(
            SyncJob.id.in_(job_ids), SyncJob.lease_owner == worker_id, SyncJob.status == "running"
        )
        .values(lease_expires_at=now + lease)
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def _has_pending_twin(session: Session, job: SyncJob) -> bool:
    twin = aliased(SyncJob)
    return bool(
        session.scalar(
            select(
                exists().where(
                    twin.status == "pending",
                    twin.integration_id == job.integration_id,
                    twin.object_type == job.object_type,
                    twin.record_id == job.record_id,
                    twin.operation == job.operation,
                    twin.id != job.id,
                )
            )
        )
    )


def reschedule(
    session: Session,
    job: SyncJob,
    at: datetime,
    *,
    error: str | None = None,
    error_class: str | None = None,
    count_attempt: bool = True,
) -> None:
    """Put a running job back in the queue for ``at``.

    If the record changed meanwhile, its newer pending job already carries the work
    (the worker pushes current state), so this one is dropped instead.
    """
    if _has_pending_twin(session, job):
        session.delete(job)
        return
    try:
        with session.begin_nested():
            job.status = "pending"
            job.next_attempt_at = at
            job.lease_owner = None
            job.lease_expires_at = None
            job.attempts += 1 if count_attempt else 0
            job.last_error = error
            job.error_class = error_class
            session.flush()
    except IntegrityError:
        # A change enqueued a pending job for this record meanwhile; that one carries
        # the work (it pushes the record's current state).
        session.delete(job)
        session.flush()


def settle(
    job: SyncJob, status: str, *, error: str | None = None, error_class: str | None = None
) -> None:
    """Finish a job: ``succeeded``, ``failed`` (no retry) or ``dead`` (retries spent)."""
    SYNC_JOBS_SETTLED.labels(status).inc()
    job.status = status
    job.lease_owner = None
    job.lease_expires_at = None
    job.last_error = error
    job.error_class = error_class
    if status != "succeeded":
        job.attempts += 1


def reap_expired(session: Session, now: datetime | None = None) -> int:
    """Hand back jobs whose worker stopped renewing its lease (it died). Commits.

    Rows another reaper is handling are skipped (PostgreSQL), and each job is flushed
    before the next is looked at, so two expired jobs of one record never both return
    to ``pending``.
    """
    now = now or datetime.now(UTC)
    query = select(SyncJob).where(SyncJob.status == "running", SyncJob.lease_expires_at < now)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    # The outbox's lock order (integration, record), so reaping never deadlocks a writer.
    expired = list(
        session.scalars(query.order_by(SyncJob.integration_id, SyncJob.record_id, SyncJob.id))
    )
    for job in expired:
        # A crash mid-push counts as an attempt, so a record that kills workers ends dead.
        reschedule(session, job, now, error="worker lease expired", error_class="LeaseExpired")
        session.flush()
    session.commit()
    return len(expired)


def purge_succeeded(session: Session, older_than: datetime) -> int:
    """Delete succeeded jobs settled before ``older_than`` (the sync log keeps counts)."""
    result = session.execute(
        delete(SyncJob).where(SyncJob.status == "succeeded", SyncJob.updated_at < older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
