"""Push one record now (``POST /api/v1/{type}/{id}/sync``), through the outbox.

The push is the worker's own: a job is enqueued (coalescing with a pending one), taken
at once by this caller under a lease, and processed exactly as a worker processes a
group (``Worker.push_claim``: mapping, hash skip, Links, SyncRun, retries). So a push now
and the background worker never push one record at the same time: the database's
one-running-job-per-record index refuses the second taker, and that integration
answers ``in_progress`` (the worker is pushing it) instead of waiting.

An integration that is not ``connected`` is not called; its job stays queued for when
it is, and the answer says why.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crmsync.records.errors import RecordInvalid, RecordNotFound
from crmsync.store.models import Integration, IntegrationStatus, Link, SyncJob, SyncJobStatus
from crmsync.sync import jobs, outbox
from crmsync.sync.jobs import Claim, ClaimedJob
from crmsync.sync.worker import TargetResolver, Worker

_JOBS = cast(Table, SyncJob.__table__)


@dataclass
class PushOutcome:
    """What one integration made of the push. ``status``: ``synced`` (the CRM holds the
    record: ``remote_id``), ``failed`` (no retry left or none would help), ``retrying``
    (a retry is queued), ``in_progress`` (a worker is pushing it now), ``queued`` (the
    integration is not connected; the job waits)."""

    integration_id: uuid.UUID
    integration_name: str
    status: str
    remote_id: str | None = None
    error: str | None = None

    def out(self) -> dict[str, Any]:
        return asdict(self)


def integrations_for(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    integration_id: uuid.UUID | None,
) -> list[Integration]:
    """The integrations a push now of ``record_type`` goes to: the one asked for (404
    when not the workspace's, 422 when it does not push the type), else every pushing one."""
    if integration_id is not None:
        integration = session.get(Integration, integration_id)
        if integration is None or integration.workspace_id != workspace_id:
            raise RecordNotFound(f"no integration {integration_id}")
    pushing = outbox.pushing_integrations(session, workspace_id, record_type, only=integration_id)
    if integration_id is not None and not pushing:
        message = f"integration {integration_id} does not push {record_type} (see config.objects)"
        raise RecordInvalid(message, [{"field": "integration_id", "message": message}])
    rows = [session.get(Integration, i) for i in pushing]
    return sorted((r for r in rows if r is not None), key=lambda r: (r.name, str(r.id)))


def push_record(
    session: Session,
    sessions: sessionmaker[Session],
    resolve: TargetResolver,
    record_type: str,
    record_id: uuid.UUID,
    integrations: list[Integration],
) -> list[PushOutcome]:
    """Push the record to each integration now; commits (each push is its own unit)."""
    targets = [(i.id, i.name, i.workspace_id, i.status, i.last_error) for i in integrations]
    for integration_id, _name, workspace_id, _status, _error in targets:
        outbox.enqueue(session, workspace_id, record_type, [record_id], only=integration_id)
    session.commit()
    worker = Worker(sessions, resolve, worker_id=f"api:{uuid.uuid4().hex[:12]}")
    outcomes = []
    for integration_id, name, _workspace_id, status, last_error in targets:
        if status != IntegrationStatus.CONNECTED:
            reason = f"integration is {status}" + (f": {last_error}" if last_error else "")
            outcomes.append(PushOutcome(integration_id, name, "queued", error=reason))
            continue
        job = _take(session, worker.worker_id, integration_id, record_type, record_id)
        if job is None:
            outcomes.append(PushOutcome(integration_id, name, "in_progress"))
            continue
        # the worker's own processing, so a push now behaves as a background push
        worker.push_claim(session, Claim(integration_id, record_type, [job]))
        outcomes.append(_outcome(session, integration_id, name, record_type, record_id, job.id))
    return outcomes


def _take(
    session: Session, owner: str, integration_id: uuid.UUID, record_type: str, record_id: uuid.UUID
) -> ClaimedJob | None:
    """Lease the record's pending upsert job; None when a worker holds the record."""
    now = datetime.now(UTC)
    stmt = (
        update(_JOBS)
        .where(
            _JOBS.c.integration_id == integration_id,
            _JOBS.c.object_type == record_type,
            _JOBS.c.record_id == record_id,
            _JOBS.c.operation == "upsert",
            _JOBS.c.status == SyncJobStatus.PENDING,
        )
        .values(
            status=SyncJobStatus.RUNNING,
            lease_owner=owner,
            lease_expires_at=now + jobs.DEFAULT_LEASE,
            updated_at=now,
        )
        .returning(
            _JOBS.c.id,
            _JOBS.c.record_id,
            _JOBS.c.operation,
            _JOBS.c.attempts,
            _JOBS.c.enqueued_at,
        )
    )
    try:
        row = session.execute(stmt).first()
        session.commit()
    except IntegrityError:  # a worker is running this record's job
        session.rollback()
        return None
    return ClaimedJob(*row) if row is not None else None


def _outcome(
    session: Session,
    integration_id: uuid.UUID,
    name: str,
    record_type: str,
    record_id: uuid.UUID,
    job_id: int,
) -> PushOutcome:
    session.expire_all()
    job = session.execute(
        select(SyncJob.status, SyncJob.last_error).where(SyncJob.id == job_id)
    ).first()
    remote_id = session.scalar(
        select(Link.remote_id).where(
            Link.integration_id == integration_id,
            Link.object_type == record_type,
            Link.record_id == record_id,
        )
    )
    if job is None:  # a newer change's pending job took over this one's work
        return PushOutcome(integration_id, name, "synced" if remote_id else "retrying", remote_id)
    if job.status == SyncJobStatus.SUCCEEDED:
        return PushOutcome(integration_id, name, "synced", remote_id)
    status = {SyncJobStatus.PENDING: "retrying", SyncJobStatus.RUNNING: "in_progress"}.get(
        job.status, "failed"
    )
    return PushOutcome(integration_id, name, status, remote_id, job.last_error)
