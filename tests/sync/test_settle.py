"""Settling a claimed group: set-based writes, lost leases, and no deadlock with enqueues.

The deadlock tests need PostgreSQL (SQLite has one writer at a time, so nothing waits in
a cycle there); they build the exact interleaving that deadlocked when a worker settled
its whole group in one transaction: an enqueue that takes the group's records in the
opposite order.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from crmsync.store.engine import make_engine, make_sessionmaker
from crmsync.store.migrate import upgrade
from crmsync.store.models import Integration, Link, SyncJob, Workspace
from crmsync.sync import jobs, outbox
from crmsync.sync.settle import Settlement
from tests.e2e.waiting import PATIENCE
from tests.services import pg_schema


def _setup(sessions: sessionmaker[Session]) -> tuple[uuid.UUID, uuid.UUID]:
    with sessions() as db:
        ws = Workspace(name="s", settings={})
        db.add(ws)
        db.flush()
        integration = Integration(
            workspace_id=ws.id,
            provider="hubspot",
            name="hs",
            config={"objects": {"contacts": "outbound"}},
        )
        db.add(integration)
        db.commit()
        return ws.id, integration.id


def _claimed(
    sessions: sessionmaker[Session], ws: uuid.UUID, records: list[uuid.UUID]
) -> jobs.Claim:
    with sessions() as db:
        outbox.enqueue(db, ws, "contacts", records)
        db.commit()
        claim = jobs.claim(db, "w", batch_limit=lambda _i, _o: 10)
    assert claim is not None and len(claim.jobs) == len(records)
    return claim


def _states(sessions: sessionmaker[Session]) -> list[tuple[uuid.UUID, str, int, str | None]]:
    with sessions() as db:
        rows = db.execute(
            select(SyncJob.record_id, SyncJob.status, SyncJob.attempts, SyncJob.error_class)
        )
        return sorted((r, s, a, e) for r, s, a, e in rows)


def test_outcomes_are_written_per_class_and_links_upserted(
    queue_sessions: sessionmaker[Session],
) -> None:
    ws, integration = _setup(queue_sessions)
    records = sorted(uuid.uuid4() for _ in range(4))
    claim = _claimed(queue_sessions, ws, records)
    now = datetime.now(UTC)
    by_record = {job.record_id: job for job in claim.jobs}
    settlement = Settlement("w", integration, ws, "contacts")
    settlement.succeed(by_record[records[0]])
    settlement.link(records[0], "r-0", "hash-0", now)
    settlement.finish(by_record[records[1]], "failed", error="bad email", error_class="X")
    settlement.finish(by_record[records[2]], "dead", error="503", error_class="Transient")
    later = now + timedelta(hours=1)
    settlement.requeue(by_record[records[3]], later, error="slow", error_class="RateLimited")
    assert not settlement.open(by_record[records[3]])
    with queue_sessions() as db:
        settlement.write(db)
    assert _states(queue_sessions) == [
        (records[0], "succeeded", 0, None),
        (records[1], "failed", 1, "X"),
        (records[2], "dead", 1, "Transient"),
        (records[3], "pending", 1, "RateLimited"),
    ]
    # a second push of the same record updates its Link in place
    claim = _claimed(queue_sessions, ws, [records[0]])
    again = Settlement("w", integration, ws, "contacts")
    again.succeed(claim.jobs[0])
    again.link(records[0], "r-0b", "hash-1", now)
    with queue_sessions() as db:
        again.write(db)
        link = db.scalars(select(Link)).one()
        assert (link.record_id, link.remote_id, link.last_pushed_hash) == (
            records[0],
            "r-0b",
            "hash-1",
        )


def test_a_remote_record_another_record_held_is_linked_to_the_one_pushed(
    queue_sessions: sessionmaker[Session],
) -> None:
    # an import undone (its contacts deleted, the delete not propagated), the same
    # e-mails imported again: the CRM matched each new contact to its old person, the
    # Link broke the unique remote id and the job was retried forever, "running"
    ws, integration = _setup(queue_sessions)
    gone, new, other, twin = sorted(uuid.uuid4() for _ in range(4))
    now = datetime.now(UTC)
    first = _claimed(queue_sessions, ws, [gone])
    settlement = Settlement("w", integration, ws, "contacts")
    settlement.succeed(first.jobs[0])
    settlement.link(gone, "p-7", "hash-0", now)
    with queue_sessions() as db:
        settlement.write(db)
    claim = _claimed(queue_sessions, ws, [new, other, twin])
    by_record = {job.record_id: job for job in claim.jobs}
    again = Settlement("w", integration, ws, "contacts")
    for record, remote in ((new, "p-7"), (other, "p-8"), (twin, "p-8")):
        again.succeed(by_record[record])
        again.link(record, remote, "hash-1", now)
    with queue_sessions() as db:
        again.write(db)
        links = sorted((link.remote_id, link.record_id) for link in db.scalars(select(Link)))
    assert links == [("p-7", new), ("p-8", twin)]
    assert [state for _r, state, _a, _e in _states(queue_sessions)] == ["succeeded"] * 4


def test_a_job_reaped_meanwhile_keeps_its_new_owners_state(
    queue_sessions: sessionmaker[Session],
) -> None:
    ws, integration = _setup(queue_sessions)
    record = uuid.uuid4()
    claim = _claimed(queue_sessions, ws, [record])
    with queue_sessions() as db:  # the lease ran out mid-push: a reaper hands the job back
        assert jobs.reap_expired(db, now=datetime.now(UTC) + timedelta(hours=1)) == 1
    settlement = Settlement("w", integration, ws, "contacts")
    settlement.succeed(claim.jobs[0])
    with queue_sessions() as db:
        settlement.write(db)
    assert _states(queue_sessions) == [(record, "pending", 1, "LeaseExpired")]


@pytest.fixture
def pg() -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    with pg_schema() as url:
        upgrade(url)
        engine = make_engine(url)
        yield engine, make_sessionmaker(engine)
        engine.dispose()


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE  # a guard against hanging, not a timing assertion
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.02)


def _waiting_for_a_lock(engine: Engine, pid: int) -> bool:
    with engine.connect() as conn:
        event = conn.execute(
            text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar()
    return event == "Lock"


def test_enqueue_in_any_order_and_settle_do_not_deadlock(
    pg: tuple[Engine, sessionmaker[Session]],
) -> None:
    engine, sessions = pg
    ws, integration = _setup(sessions)
    first, second = sorted(uuid.uuid4() for _ in range(2))
    claim = _claimed(sessions, ws, [first, second])
    settlement = Settlement("w", integration, ws, "contacts")
    for job in claim.jobs:  # the CRM failed the batch: both jobs go back to the queue
        settlement.requeue(job, datetime.now(UTC), error="503", error_class="Transient")
    worker_conn = engine.connect()
    pid = int(worker_conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    worker_conn.commit()
    errors: list[BaseException] = []

    def settle() -> None:
        try:
            with Session(bind=worker_conn) as session:
                settlement.write(session)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    worker = threading.Thread(target=settle)
    with sessions() as change:
        # A change that enqueues the group's records in the opposite order: the second
        # record first, so the worker, putting its jobs back in record order, waits for
        # this transaction at the second record ...
        outbox.enqueue(change, ws, "contacts", [second])
        worker.start()
        _until(lambda: _waiting_for_a_lock(engine, pid), "the worker to wait for the change")
        # ... while this transaction now needs the first record, which the worker put
        # back a moment ago. Settled in one transaction, that was a deadlock.
        outbox.enqueue(change, ws, "contacts", [first])
        change.commit()
    worker.join(30)
    worker_conn.close()
    assert not worker.is_alive() and errors == []
    # each record has one pending job: the requeued one (the change coalesced into it),
    # or the change's own (the requeued one gave way to it)
    states = _states(sessions)
    assert [(r, s) for r, s, _a, _e in states] == [(first, "pending"), (second, "pending")]
    assert states[0][2:] == (1, "Transient") and states[1][2:] == (0, None)


def test_heartbeat_skips_jobs_being_settled_instead_of_waiting(
    pg: tuple[Engine, sessionmaker[Session]],
) -> None:
    engine, sessions = pg
    ws, _integration = _setup(sessions)
    claim = _claimed(sessions, ws, sorted(uuid.uuid4() for _ in range(2)))
    busy, free = (job.id for job in claim.jobs)
    renewed: list[int] = []
    with engine.connect() as settling:  # a settle holds one of the rows, not committed
        settling.execute(update(SyncJob).where(SyncJob.id == busy).values(status="succeeded"))

        def beat() -> None:
            with sessions() as db:
                renewed.append(jobs.heartbeat(db, "w", [busy, free]))

        heartbeat = threading.Thread(target=beat)
        heartbeat.start()
        heartbeat.join(30)
        assert not heartbeat.is_alive() and renewed == [1]
        settling.rollback()
