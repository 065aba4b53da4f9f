"""Claims, leases and settling of outbox jobs, on each database."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crmsync.store.models import Integration, SyncJob, Workspace
from crmsync.sync import jobs

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _setup(sessions: sessionmaker[Session], *statuses: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    with sessions() as db:
        ws = Workspace(name="q", settings={})
        db.add(ws)
        db.flush()
        integrations = []
        for status in statuses:
            integration = Integration(
                workspace_id=ws.id, provider="hubspot", name=status, status=status, config={}
            )
            db.add(integration)
            db.flush()
            integrations.append(integration.id)
        db.commit()
        return ws.id, integrations


def _job(
    db: Session,
    ws: uuid.UUID,
    integration: uuid.UUID,
    object_type: str = "contacts",
    *,
    record: uuid.UUID | None = None,
    priority: int = 1,
    status: str = "pending",
    at: datetime = NOW,
) -> SyncJob:
    job = SyncJob(
        workspace_id=ws,
        integration_id=integration,
        object_type=object_type,
        record_id=record or uuid.uuid4(),
        operation="upsert",
        priority=priority,
        status=status,
        next_attempt_at=at,
        enqueued_at=at,
    )
    db.add(job)
    db.flush()
    return job


def test_claims_a_group_by_priority_up_to_the_batch_limit(
    queue_sessions: sessionmaker[Session],
) -> None:
    ws, (a, b) = _setup(queue_sessions, "connected", "connected")
    with queue_sessions() as db:
        backfill = [_job(db, ws, a, priority=2).id for _ in range(3)]
        realtime = [_job(db, ws, b, "deals", priority=0).id for _ in range(5)]
        _job(db, ws, b, "contacts", priority=0)
        _job(db, ws, a, at=NOW + timedelta(hours=1))  # not due yet
        db.commit()
        first = jobs.claim(db, "w1", batch_limit=lambda _i, _o: 4, now=NOW)
        assert first is not None and (first.integration_id, first.object_type) == (b, "deals")
        assert [j.id for j in first.jobs] == realtime[:4]
        held = db.scalars(select(SyncJob).where(SyncJob.id.in_([j.id for j in first.jobs])))
        assert all(j.status == "running" and j.lease_owner == "w1" for j in held)
        second = jobs.claim(db, "w1", batch_limit=lambda _i, _o: 4, now=NOW)
        assert second is not None and [j.id for j in second.jobs] == realtime[4:]
        third = jobs.claim(db, "w1", batch_limit=lambda _i, _o: 4, now=NOW)
        assert third is not None and third.object_type == "contacts" and third.integration_id == b
        fourth = jobs.claim(db, "w1", batch_limit=lambda _i, _o: 100, now=NOW)
        assert fourth is not None and [j.id for j in fourth.jobs] == backfill
        assert jobs.claim(db, "w1", batch_limit=lambda _i, _o: 100, now=NOW) is None


def test_paused_integrations_and_busy_records_are_not_claimed(
    queue_sessions: sessionmaker[Session],
) -> None:
    ws, (ok, paused) = _setup(queue_sessions, "connected", "needs_auth")
    record = uuid.uuid4()
    with queue_sessions() as db:
        _job(db, ws, paused)
        _job(db, ws, ok, record=record, status="running")
        twin = _job(db, ws, ok, record=record)
        db.commit()
        assert jobs.claim(db, "w", batch_limit=lambda _i, _o: 10, now=NOW) is None
        running = db.scalar(select(SyncJob).where(SyncJob.status == "running"))
        assert running is not None
        running.status = "succeeded"
        db.commit()
        claimed = jobs.claim(db, "w", batch_limit=lambda _i, _o: 10, now=NOW)
        assert claimed is not None and [j.id for j in claimed.jobs] == [twin.id]


def test_reaper_hands_back_expired_leases_and_counts_the_attempt(
    queue_sessions: sessionmaker[Session],
) -> None:
    ws, (a,) = _setup(queue_sessions, "connected")
    with queue_sessions() as db:
        lone = _job(db, ws, a)
        record = uuid.uuid4()
        superseded = _job(db, ws, a, record=record).id
        db.commit()
        claim = jobs.claim(db, "dead-worker", batch_limit=lambda _i, _o: 10, now=NOW)
        assert claim is not None and len(claim.jobs) == 2
        newer = _job(db, ws, a, record=record)  # the record changed while its job ran
        db.commit()
        assert jobs.reap_expired(db, now=NOW + timedelta(seconds=30)) == 0
        assert jobs.reap_expired(db, now=NOW + timedelta(minutes=5)) == 2
        db.expire_all()
        back = db.get(SyncJob, lone.id)
        assert back is not None and back.status == "pending" and back.attempts == 1
        assert back.error_class == "LeaseExpired" and back.lease_owner is None
        assert db.get(SyncJob, superseded) is None
        assert db.get(SyncJob, newer.id) is not None


def test_heartbeat_extends_only_the_owners_leases(queue_sessions: sessionmaker[Session]) -> None:
    ws, (a,) = _setup(queue_sessions, "connected")
    with queue_sessions() as db:
        _job(db, ws, a)
        db.commit()
        claim = jobs.claim(db, "owner", batch_limit=lambda _i, _o: 10, now=NOW)
        assert claim is not None
        ids = [j.id for j in claim.jobs]
        assert jobs.heartbeat(db, "intruder", ids) == 0
        assert jobs.heartbeat(db, "owner", ids) == 1
        assert jobs.reap_expired(db, now=NOW + timedelta(minutes=5)) == 0


def test_concurrent_claims_never_take_a_job_twice(queue_sessions: sessionmaker[Session]) -> None:
    ws, integrations = _setup(queue_sessions, "connected", "connected", "connected")
    with queue_sessions() as db:
        for integration in integrations:
            for object_type in ("contacts", "deals"):
                for _ in range(40):
                    _job(db, ws, integration, object_type)
        db.commit()
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with queue_sessions() as db:
                while (
                    claim := jobs.claim(db, name, batch_limit=lambda _i, _o: 7, now=NOW)
                ) is not None:
                    with lock:
                        taken.extend(j.id for j in claim.jobs)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(taken) == 240 and len(set(taken)) == 240


def test_one_record_never_runs_twice_even_across_claims(
    queue_sessions: sessionmaker[Session],
) -> None:
    ws, (a,) = _setup(queue_sessions, "connected")
    record = uuid.uuid4()
    with queue_sessions() as db:
        first = _job(db, ws, a, record=record)
        second = SyncJob(
            workspace_id=ws,
            integration_id=a,
            object_type="contacts",
            record_id=record,
            operation="delete",
            status="pending",
            next_attempt_at=NOW,
            enqueued_at=NOW,
        )
        db.add(second)
        db.commit()
        claim = jobs.claim(db, "w1", batch_limit=lambda _i, _o: 10, now=NOW)
        assert claim is not None and [j.id for j in claim.jobs] == [first.id]
        assert jobs.claim(db, "w2", batch_limit=lambda _i, _o: 10, now=NOW) is None
        # the database itself refuses a second running job of the record
        refused = SyncJob.__table__.update().where(SyncJob.id == second.id)
        with pytest.raises(IntegrityError):
            db.execute(refused.values(status="running"))
            db.commit()
