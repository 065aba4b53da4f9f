"""Settling a claimed group: the outcome of each job, written when the group ends.

While a group is pushed, each job's outcome (succeeded, failed, dead, or back to the
queue) and each Link change is only noted; ``Settlement.write`` then stores them in a
handful of statements — one UPDATE per outcome class, the Links in one upsert — instead
of one UPDATE per job.

Lock order. The settle transaction writes only rows that no enqueue ever waits for: the
group's running jobs, its Links and its SyncRun. A job put back in the queue enters the
pending index, which an enqueue of the same record writes too, and an enqueue may take
records in any order (a poll page, a backfill in chunks, several changes in one
transaction). So each job goes back in a transaction of its own that holds nothing else
(``jobs.requeue``): a worker may wait for an enqueue, or an enqueue for a worker, but
never both at once, so they cannot deadlock.

Every write is conditional on this worker still holding the job's lease: if a reaper
handed a job to someone else meanwhile, that job's outcome here is dropped (the push was
an idempotent upsert; the new holder pushes again).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crmsync import outbound
from crmsync.store.base import new_id
from crmsync.store.models import Link, SyncJob, SyncJobStatus
from crmsync.sync import fieldstate, jobs
from crmsync.sync.jobs import ClaimedJob

log = structlog.get_logger("crmsync.worker")

_JOBS = cast(Table, SyncJob.__table__)
_LINKS = cast(Table, Link.__table__)
_HELD = (_JOBS.c.status == SyncJobStatus.RUNNING, _JOBS.c.lease_owner == bindparam("owner"))
_SUCCEED = (
    update(_JOBS)
    .where(_JOBS.c.id.in_(bindparam("ids", expanding=True)), *_HELD)
    .values(
        status=SyncJobStatus.SUCCEEDED,
        lease_owner=None,
        lease_expires_at=None,
        last_error=None,
        error_class=None,
        updated_at=bindparam("now"),
    )
)
_FINISH = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("job_id"), *_HELD)
    .values(
        status=bindparam("new_status"),
        lease_owner=None,
        lease_expires_at=None,
        attempts=_JOBS.c.attempts + 1,
        last_error=bindparam("error"),
        error_class=bindparam("error_class"),
        updated_at=bindparam("now"),
    )
)
_UNLINK = delete(_LINKS).where(_LINKS.c.id.in_(bindparam("ids", expanding=True)))
# The CRM said which of its records this record is: that remote record is no other
# record's any more. Its old Link is usually a deleted record's (an undone import, a
# delete not propagated to this CRM), and the CRM matched the new record to it by e-mail;
# kept, it broke the unique remote id and the push was retried forever.
_RELEASE = delete(_LINKS).where(
    _LINKS.c.integration_id == bindparam("integration_id"),
    _LINKS.c.object_type == bindparam("object_type"),
    _LINKS.c.remote_id.in_(bindparam("remote_ids", expanding=True)),
    _LINKS.c.record_id.not_in(bindparam("record_ids", expanding=True)),
)


@dataclass(frozen=True, slots=True)
class _Requeue:
    job: ClaimedJob
    at: datetime
    error: str | None
    error_class: str | None
    count_attempt: bool


@dataclass
class Settlement:
    """The outcomes of one claimed group, noted during the push and written at its end."""

    worker_id: str
    integration_id: uuid.UUID
    workspace_id: uuid.UUID
    object_type: str
    outcome: dict[int, str] = field(default_factory=dict)  # job id -> its new status
    _succeeded: list[int] = field(default_factory=list)
    _finished: list[dict[str, Any]] = field(default_factory=list)
    _requeued: list[_Requeue] = field(default_factory=list)
    _links: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    _unlinked: list[uuid.UUID] = field(default_factory=list)
    _known: list[dict[str, Any]] = field(default_factory=list)

    # -- jobs --------------------------------------------------------------------------

    def open(self, job: ClaimedJob) -> bool:
        """True while the job has no outcome yet."""
        return job.id not in self.outcome

    def succeed(self, job: ClaimedJob) -> None:
        self.outcome[job.id] = SyncJobStatus.SUCCEEDED
        self._succeeded.append(job.id)

    def finish(
        self, job: ClaimedJob, status: SyncJobStatus, *, error: str | None, error_class: str | None
    ) -> None:
        """``failed`` (no retry) or ``dead`` (retries spent); either spends an attempt."""
        self.outcome[job.id] = status
        self._finished.append(
            {"job_id": job.id, "new_status": status, "error": error, "error_class": error_class}
        )

    def requeue(
        self,
        job: ClaimedJob,
        at: datetime,
        *,
        error: str | None,
        error_class: str | None,
        count_attempt: bool = True,
    ) -> None:
        self.outcome[job.id] = SyncJobStatus.PENDING
        self._requeued.append(_Requeue(job, at, error, error_class, count_attempt))

    # -- links -------------------------------------------------------------------------

    def link(self, record_id: uuid.UUID, remote_id: str, digest: str, now: datetime) -> None:
        """Pair the record with its remote id, remembering the hash of what was pushed."""
        self._links[record_id] = {
            "id": new_id(),
            "workspace_id": self.workspace_id,
            "integration_id": self.integration_id,
            "object_type": self.object_type,
            "record_id": record_id,
            "remote_id": remote_id,
            "last_pushed_hash": digest,
            "last_synced_at": now,
        }

    @property
    def linked(self) -> list[uuid.UUID]:
        """Records this group paired with a remote id."""
        return list(self._links)

    def known(self, record_id: uuid.UUID, values: dict[str, Any], acked: datetime) -> None:
        """The CRM acknowledged these property values of the record at ``acked``."""
        self._known += fieldstate.rows(
            self.integration_id, self.object_type, record_id, values, acked
        )

    def unlink(self, link_id: uuid.UUID) -> None:
        self._unlinked.append(link_id)

    def _link_rows(self) -> list[dict[str, Any]]:
        """The Links to write, one per remote id: when the CRM answered one id for two
        records of the group (it matched them by e-mail), the later push has it."""
        return list({row["remote_id"]: row for row in self._links.values()}.values())

    # -- writing -----------------------------------------------------------------------

    def write(self, session: Session) -> None:
        """Store every outcome: one transaction for the group, then one per requeued job."""
        now = datetime.now(UTC)
        held = {"owner": self.worker_id, "now": now}
        if self._unlinked:
            session.execute(_UNLINK, {"ids": self._unlinked})
        if self._links:
            rows = self._link_rows()
            session.execute(
                _RELEASE,
                {
                    "integration_id": self.integration_id,
                    "object_type": self.object_type,
                    "remote_ids": [row["remote_id"] for row in rows],
                    "record_ids": [row["record_id"] for row in rows],
                },
            )
            session.execute(_link_upsert(session), rows)
        fieldstate.store(session, self._known)
        stored = 0
        if self._succeeded:
            result = session.execute(_SUCCEED, {"ids": self._succeeded, **held})
            stored = int(result.rowcount)  # type: ignore[attr-defined]
        if self._finished:
            session.execute(_FINISH, [{**row, **held} for row in self._finished])
        outbound.sync_failures(
            session, self.workspace_id, self.integration_id, self.object_type, self._finished
        )
        session.commit()
        if stored < len(self._succeeded):
            # Our lease ran out mid-push and a reaper handed those jobs back: they will
            # be pushed again (upserts, so no duplicate).
            log.warning("jobs were reaped while in flight", jobs=len(self._succeeded) - stored)
        jobs.count_settled(SyncJobStatus.SUCCEEDED, stored)
        for row in self._finished:
            jobs.count_settled(row["new_status"])
        # The outbox's order (record), though each requeue commits alone anyway.
        for item in sorted(self._requeued, key=lambda r: r.job.record_id):
            jobs.requeue(
                session,
                item.job.id,
                self.worker_id,
                item.at,
                error=item.error,
                error_class=item.error_class,
                count_attempt=item.count_attempt,
            )


def _link_upsert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(_LINKS)
    return stmt.on_conflict_do_update(
        index_elements=["integration_id", "object_type", "record_id"],
        set_={
            "remote_id": stmt.excluded.remote_id,
            "last_pushed_hash": stmt.excluded.last_pushed_hash,
            "last_synced_at": stmt.excluded.last_synced_at,
        },
    )
