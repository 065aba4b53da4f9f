"""Claiming, leasing and handing back outbox jobs.

A worker claims a group of due jobs of one integration and object type (so the group can
go out in one batch call), holding a lease it renews by heartbeat. Claims are safe with
many workers: PostgreSQL skips rows another claim has locked, and the claim's UPDATE only
takes rows still ``pending``, so a job is never running twice. Two jobs of one record
never run at once: a record with a running job is not claimed again until it settles.

The statements are built once: building SQLAlchemy expressions per claim cost more than
running them.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, exists, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased

from crmsync import outbound
from crmsync.integrations.config import RetrySettings, SyncConfig
from crmsync.metrics import SYNC_JOBS_SETTLED
from crmsync.store.models import Integration, IntegrationStatus, SyncJob, SyncJobStatus
from crmsync.sync import object_state

DEFAULT_LEASE = timedelta(seconds=60)
# SQLite runs one process: its worker threads take turns to claim, instead of racing to
# upgrade read snapshots to write locks (which SQLite refuses rather than waits for).
_SQLITE_CLAIMS = threading.Lock()
_JOBS = cast(Table, SyncJob.__table__)


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """What the worker needs of a job it holds (a row, not a tracked ORM object)."""

    id: int
    record_id: uuid.UUID
    operation: str
    attempts: int
    enqueued_at: datetime


@dataclass(frozen=True)
class Claim:
    """Jobs of one integration and object type, leased to one worker."""

    integration_id: uuid.UUID
    object_type: str
    jobs: list[ClaimedJob]


_running = aliased(SyncJob)
_DUE = and_(
    SyncJob.status == SyncJobStatus.PENDING,
    SyncJob.next_attempt_at <= bindparam("now"),
    ~exists().where(  # the record is busy: its other job waits
        _running.status == SyncJobStatus.RUNNING,
        _running.integration_id == SyncJob.integration_id,
        _running.object_type == SyncJob.object_type,
        _running.record_id == SyncJob.record_id,
    ),
    SyncJob.integration_id.in_(
        select(Integration.id).where(Integration.status == IntegrationStatus.CONNECTED)
    ),
    ~object_state.HELD,  # its object type backs off, or waits for its slot
)
_URGENT = (SyncJob.priority, SyncJob.next_attempt_at, SyncJob.id)
_HEAD = select(SyncJob.integration_id, SyncJob.object_type).where(_DUE).order_by(*_URGENT).limit(1)
_GROUP = (
    select(SyncJob.id, SyncJob.record_id)
    .where(
        _DUE,
        SyncJob.integration_id == bindparam("integration_id"),
        SyncJob.object_type == bindparam("object_type"),
    )
    .order_by(*_URGENT)
    .limit(bindparam("limit"))
)
_LOCKED = {"skip_locked": True, "of": SyncJob}
_HEAD_LOCKED = _HEAD.with_for_update(**_LOCKED)  # type: ignore[arg-type]
_GROUP_LOCKED = _GROUP.with_for_update(**_LOCKED)  # type: ignore[arg-type]
_TAKE = (
    update(_JOBS)
    .where(
        _JOBS.c.id.in_(bindparam("ids", expanding=True)), _JOBS.c.status == SyncJobStatus.PENDING
    )
    .values(
        status=SyncJobStatus.RUNNING,
        lease_owner=bindparam("owner"),
        lease_expires_at=bindparam("expires"),
        updated_at=bindparam("now"),
    )
    .returning(
        _JOBS.c.id, _JOBS.c.record_id, _JOBS.c.operation, _JOBS.c.attempts, _JOBS.c.enqueued_at
    )
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
    head = session.execute(_HEAD_LOCKED if skip_locked else _HEAD, {"now": now}).first()
    if head is None:
        session.rollback()
        return None
    integration_id, object_type = head
    group = session.execute(
        _GROUP_LOCKED if skip_locked else _GROUP,
        {
            "now": now,
            "integration_id": integration_id,
            "object_type": object_type,
            "limit": max(1, batch_limit(integration_id, object_type)),
        },
    )
    ids: list[int] = []
    seen: set[uuid.UUID] = set()
    for job_id, record_id in group:
        if record_id not in seen:  # one job per record at a time (its other op waits)
            seen.add(record_id)
            ids.append(job_id)
    try:
        taken = session.execute(
            _TAKE, {"ids": ids, "owner": worker_id, "expires": now + lease, "now": now}
        ).all()
        session.commit()
    except (IntegrityError, OperationalError) as error:
        if isinstance(error, OperationalError) and not _deadlock(error):
            raise
        # Another worker started one of these records a moment ago (the running-job
        # index refuses a second, or two claims each wait for the other's record):
        # leave the group for the next round.
        session.rollback()
        return None
    if not taken:
        return None
    jobs = sorted((ClaimedJob(*row) for row in taken), key=lambda job: job.id)
    return Claim(integration_id, object_type, jobs)


def _deadlock(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlstate", None) == "40P01"


def heartbeat(
    session: Session, worker_id: str, job_ids: Sequence[int], lease: timedelta = DEFAULT_LEASE
) -> int:
    """Extend the lease of this worker's running jobs; returns how many leases it renewed.

    Rows locked by another transaction are skipped, not waited for: they are being
    settled (or reaped) right now, and a heartbeat that waited for a settle while holding
    rows the settle writes next would deadlock with it.
    """
    now = datetime.now(UTC)
    mine = (
        select(SyncJob.id)
        .where(
            SyncJob.id.in_(job_ids),
            SyncJob.lease_owner == worker_id,
            SyncJob.status == SyncJobStatus.RUNNING,
        )
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        update(_JOBS)
        .where(_JOBS.c.id.in_(mine.scalar_subquery()))
        .values(lease_expires_at=now + lease)
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


_twin = aliased(SyncJob)
_HAS_PENDING_TWIN = select(
    exists().where(
        _twin.status == SyncJobStatus.PENDING,
        _twin.integration_id == SyncJob.integration_id,
        _twin.object_type == SyncJob.object_type,
        _twin.record_id == SyncJob.record_id,
        _twin.operation == SyncJob.operation,
        _twin.id != SyncJob.id,
    )
).where(SyncJob.id == bindparam("job_id"))
_HELD = and_(
    _JOBS.c.id == bindparam("job_id"),
    _JOBS.c.status == SyncJobStatus.RUNNING,
    _JOBS.c.lease_owner == bindparam("owner"),
)
_REQUEUE = (
    update(_JOBS)
    .where(_HELD)
    .values(
        status=SyncJobStatus.PENDING,
        next_attempt_at=bindparam("at"),
        lease_owner=None,
        lease_expires_at=None,
        attempts=_JOBS.c.attempts + bindparam("spent"),
        last_error=bindparam("error"),
        error_class=bindparam("error_class"),
    )
)
_DROP = delete(_JOBS).where(_HELD)


def requeue(
    session: Session,
    job_id: int,
    owner: str,
    at: datetime,
    *,
    error: str | None = None,
    error_class: str | None = None,
    count_attempt: bool = True,
) -> None:
    """Put a running job held by ``owner`` back in the queue for ``at``, and commit.

    If the record changed meanwhile, its newer pending job already carries the work (the
    worker pushes current state), so this one is dropped instead. Each job goes back in
    its own transaction, holding nothing else: entering the pending index can wait for an
    enqueue of the same record, and an enqueue (which may take records in any order)
    must never be waiting for something this transaction holds at the same time.
    """
    held = {"job_id": job_id, "owner": owner}
    if session.scalar(_HAS_PENDING_TWIN, {"job_id": job_id}):
        session.execute(_DROP, held)
        session.commit()
        return
    values = {"at": at, "spent": int(count_attempt), "error": error, "error_class": error_class}
    try:
        with session.begin_nested():
            session.execute(_REQUEUE, {**held, **values})
    except IntegrityError:
        # A change enqueued a pending job for this record meanwhile; that one carries
        # the work (it pushes the record's current state).
        session.execute(_DROP, held)
    session.commit()


def count_settled(status: str, n: int = 1) -> None:
    if n:
        SYNC_JOBS_SETTLED.labels(status).inc(n)


def held_by(session: Session, owner: str, job_ids: Sequence[int]) -> list[int]:
    """Which of these jobs ``owner`` still holds (running under its lease)."""
    return list(
        session.scalars(
            select(SyncJob.id).where(
                SyncJob.id.in_(job_ids),
                SyncJob.status == SyncJobStatus.RUNNING,
                SyncJob.lease_owner == owner,
            )
        )
    )


_LEASE_EXPIRED = "worker lease expired"
_BURY = (
    update(_JOBS)
    .where(_HELD)
    .values(
        status=SyncJobStatus.DEAD,
        lease_owner=None,
        lease_expires_at=None,
        attempts=_JOBS.c.attempts + 1,
        last_error=_LEASE_EXPIRED,
        error_class="LeaseExpired",
        updated_at=bindparam("now"),
    )
)


def _attempts_allowed(config: dict[str, Any] | None, object_type: str) -> int:
    try:
        return SyncConfig.model_validate(config or {}).attempts(object_type)
    except ValueError:  # a broken config is reported by the API; the default holds
        return RetrySettings().attempts


def reap_expired(session: Session, now: datetime | None = None) -> int:
    """Hand back jobs whose worker stopped renewing its lease (it died). Commits.

    A lost try counts as an attempt, and the job whose last attempt it was becomes a dead
    letter, so a record that kills workers (or a group whose failure could not even be
    written) ends dead rather than coming back forever. The lease it waited out is its
    back-off. Each expired job is taken under a row lock that other reapers skip
    (PostgreSQL), and goes back in its own transaction (see ``requeue``).
    """
    now = now or datetime.now(UTC)
    expired = and_(SyncJob.status == SyncJobStatus.RUNNING, SyncJob.lease_expires_at < now)
    candidates = list(session.scalars(select(SyncJob.id).where(expired).order_by(SyncJob.id)))
    session.commit()  # (not rollback: that would expire the caller's objects)
    lock = session.get_bind().dialect.name == "postgresql"
    reaped = 0
    for job_id in candidates:
        query = (
            select(
                SyncJob.lease_owner,
                SyncJob.attempts,
                SyncJob.object_type,
                SyncJob.workspace_id,
                SyncJob.integration_id,
                Integration.config,
            )
            .join(Integration, Integration.id == SyncJob.integration_id)
            .where(SyncJob.id == job_id, expired)
        )
        if lock:
            query = query.with_for_update(skip_locked=True, of=SyncJob)
        row = session.execute(query).first()
        if row is None:  # settled, or another reaper has it
            session.commit()
            continue
        owner, attempts, object_type, workspace_id, integration_id, config = row
        if attempts + 1 >= _attempts_allowed(config, object_type):
            session.execute(_BURY, {"job_id": job_id, "owner": owner, "now": now})
            outbound.sync_failures(
                session,
                workspace_id,
                integration_id,
                object_type,
                [
                    {
                        "job_id": job_id,
                        "new_status": SyncJobStatus.DEAD,
                        "error": _LEASE_EXPIRED,
                        "error_class": "LeaseExpired",
                    }
                ],
            )
            session.commit()
            count_settled(SyncJobStatus.DEAD)
        else:
            requeue(session, job_id, owner, now, error=_LEASE_EXPIRED, error_class="LeaseExpired")
        reaped += 1
    return reaped


def purge_succeeded(session: Session, older_than: datetime) -> int:
    """Delete succeeded jobs settled before ``older_than`` (the sync log keeps counts)."""
    result = session.execute(
        delete(SyncJob).where(
            SyncJob.status == SyncJobStatus.SUCCEEDED, SyncJob.updated_at < older_than
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
