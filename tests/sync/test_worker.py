"""The worker's push path and its error policy, with a scripted in-memory CRM.

End-to-end runs against the sandboxes over sockets live in tests/e2e; here a connector
double (implementing the real contract) scripts each error class precisely.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crmsync.connectors.base import (
    Capabilities,
    ChangePage,
    Connector,
    ObjectCapabilities,
    RemoteChange,
    RemoteField,
    UpsertResult,
)
from crmsync.connectors.errors import AuthError, InvalidRecord, NotFound, RateLimited, Transient
from crmsync.connectors.http.retry import RetryPolicy
from crmsync.mapping.defaults import default_mapping
from crmsync.records import service
from crmsync.store.models import (
    Integration,
    Link,
    SyncJob,
    SyncObjectState,
    SyncRun,
    Workspace,
)
from crmsync.sync import health, jobs
from crmsync.sync.push_target import Target
from crmsync.sync.settle import Settlement
from crmsync.sync.worker import Worker


class ScriptedCRM(Connector):
    """Keeps records in memory; ``script`` says how the next calls fail."""

    provider = "scripted"
    capabilities = Capabilities(
        {"contacts": ObjectCapabilities(batch_limit=10, upsert_keys=("email",))}
    )

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.calls: list[list[dict[str, Any]]] = []
        self.raise_next: list[Exception] = []
        self.refuse: set[str] = set()  # emails refused as invalid
        self.deleted: list[str] = []

    def upsert(
        self, object_type: str, payloads: Sequence[Mapping[str, Any]], match_key: str | None
    ) -> list[UpsertResult]:
        if self.raise_next:
            raise self.raise_next.pop(0)
        self.calls.append([dict(p) for p in payloads])
        results = []
        for p in payloads:
            if p.get("email") in self.refuse:
                results.append(UpsertResult.failed(InvalidRecord("email is not allowed")))
            elif "id" in p and p["id"] not in self.records:
                results.append(UpsertResult.failed(NotFound("no such contact")))
            elif "id" in p:
                self.records[p["id"]].update(p)
                results.append(UpsertResult.updated(p["id"]))
            else:
                rid = f"r{len(self.records) + 1}"
                self.records[rid] = dict(p)
                results.append(UpsertResult.created(rid))
        return results

    def delete(self, object_type: str, remote_ids: Sequence[str]) -> None:
        self.deleted += remote_ids

    def describe(self, object_type: str) -> list[RemoteField]:
        return []

    def changes(self, object_type: str, cursor: str | None) -> ChangePage:
        return ChangePage([], [], cursor)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return False

    def parse_webhook(self, body: bytes) -> list[RemoteChange]:
        return []


@pytest.fixture
def world(queue_sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    crm = ScriptedCRM()
    with queue_sessions() as db:
        ws = Workspace(name="w", settings={})
        db.add(ws)
        db.flush()
        integration = Integration(
            workspace_id=ws.id,
            provider="hubspot",
            name="hs",
            config={
                "objects": {"contacts": "both"},
                "delete_propagation": True,
                "retry": {"attempts": 3, "cap_seconds": 4, "jitter": 0},
            },
        )
        db.add(integration)
        db.commit()
        ids = (ws.id, integration.id)

    def resolve(_session: Session, integration: Integration) -> Target:
        return Target(
            integration.id,
            integration.workspace_id,
            crm,
            default_mapping("hubspot"),
            RetryPolicy(attempts=3, base=1, cap=4, jitter=0),
        )

    worker = Worker(queue_sessions, resolve, concurrency=1)
    return queue_sessions, crm, worker, ids


def _drain(worker: Worker) -> int:
    n = 0
    while worker.run_once():
        n += 1
    return n


def _job_states(db: Session) -> list[tuple[str, int, str | None]]:
    db.expire_all()
    return [
        (j.status, j.attempts, j.error_class)
        for j in db.scalars(select(SyncJob).order_by(SyncJob.id))
    ]


def test_push_links_skips_unchanged_and_updates_by_remote_id(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, _integration) = world
    with sessions() as db:
        results = service.upsert_records(
            db,
            ws,
            "contacts",
            [{"email": f"p{i}@x.com", "first_name": f"P{i}"} for i in range(12)],
            "api",
        )
        db.commit()
    _drain(worker)
    assert [len(c) for c in crm.calls] == [10, 2]  # the connector's batch limit is 10
    sent = {p["email"]: p for call in crm.calls for p in call}
    assert sent["p0@x.com"]["firstname"] == "P0"
    with sessions() as db:
        links = db.scalars(select(Link)).all()
        assert len(links) == 12 and all(link.last_pushed_hash for link in links)
        # a change that maps to the same payload is skipped; a real one updates by id
        first = results[0].id
        service.update_record(db, ws, "contacts", first, {"first_name": "Pia"}, "api")
        service.update_record(db, ws, "contacts", results[1].id, {"custom_fields": {"x": 1}}, "api")
        db.commit()
    _drain(worker)
    assert len(crm.calls) == 3 and len(crm.calls[2]) == 1
    assert crm.calls[2][0]["id"] == next(k.remote_id for k in links if k.record_id == first)
    with sessions() as db:
        run = db.scalars(select(SyncRun).order_by(SyncRun.started_at.desc())).first()
        assert run is not None and (run.succeeded, run.skipped) == (1, 1)


def test_invalid_record_fails_alone_without_retry(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, _i) = world
    crm.refuse.add("bad@x.com")
    with sessions() as db:
        service.upsert_records(
            db, ws, "contacts", [{"email": "good@x.com"}, {"email": "bad@x.com"}], "api"
        )
        db.commit()
    _drain(worker)
    with sessions() as db:
        assert sorted(_job_states(db)) == [("failed", 1, "InvalidRecord"), ("succeeded", 0, None)]
        failed = db.scalar(select(SyncJob).where(SyncJob.status == "failed"))
        assert failed is not None and failed.last_error == "email is not allowed"


def test_transient_errors_back_off_then_go_dead(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, _i) = world
    crm.raise_next = [Transient("502"), Transient("503"), Transient("timeout")]
    with sessions() as db:
        service.create_record(db, ws, "contacts", {"email": "t@x.com"}, "api")
        db.commit()
    for attempt, backoff in enumerate([1.0, 2.0, None]):
        before = datetime.now(UTC)
        assert worker.run_once()
        after = datetime.now(UTC)
        with sessions() as db:
            job = db.scalars(select(SyncJob)).one()
            if backoff is not None:  # 1 s, then 2 s, from when the push failed
                assert (job.status, job.attempts) == ("pending", attempt + 1)
                wait = timedelta(seconds=backoff)
                assert before + wait <= job.next_attempt_at <= after + wait
                job.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
                db.commit()
    with sessions() as db:
        assert _job_states(db) == [("dead", 3, "Transient")]


def test_rate_limited_waits_without_spending_an_attempt(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, _i) = world
    crm.raise_next = [RateLimited("slow down", retry_after=30)]
    with sessions() as db:
        service.create_record(db, ws, "contacts", {"email": "r@x.com"}, "api")
        db.commit()
    worker.run_once()
    with sessions() as db:
        job = db.scalars(select(SyncJob)).one()
        assert (job.status, job.attempts, job.error_class) == ("pending", 0, "RateLimited")
        assert 25 < (job.next_attempt_at - datetime.now(UTC)).total_seconds() <= 30


def test_auth_error_pauses_the_integration_and_its_jobs(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, integration_id) = world
    crm.raise_next = [AuthError("token revoked", status=401)]
    with sessions() as db:
        service.create_record(db, ws, "contacts", {"email": "a@x.com"}, "api")
        db.commit()
    worker.run_once()
    with sessions() as db:
        integration = db.get(Integration, integration_id)
        assert integration is not None and integration.status == "needs_auth"
        assert "reconnect" in (integration.last_error or "")
        assert _job_states(db) == [("pending", 0, "AuthError")]
        db.execute(SyncJob.__table__.update().values(next_attempt_at=datetime.now(UTC)))
        db.commit()
    assert worker.run_once() is False  # paused: not claimed
    with sessions() as db:
        db.get(Integration, integration_id).status = "connected"  # type: ignore[union-attr]
        db.commit()
    assert worker.run_once() and len(crm.records) == 1


def test_stale_link_is_dropped_and_the_record_recreated(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, _i) = world
    with sessions() as db:
        contact = service.create_record(db, ws, "contacts", {"email": "n@x.com"}, "api")
        db.commit()
    _drain(worker)
    crm.records.clear()  # deleted in the CRM by someone
    with sessions() as db:
        service.update_record(db, ws, "contacts", contact.id, {"city": "Lima"}, "api")
        db.commit()
    _drain(worker)
    assert len(crm.records) == 1 and "id" not in crm.calls[-1][0]
    with sessions() as db:
        link = db.scalars(select(Link)).one()
        assert link.remote_id in crm.records


def test_deletes_use_the_link_and_keep_it_as_the_tombstone(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, _i) = world
    with sessions() as db:
        contact = service.create_record(db, ws, "contacts", {"email": "d@x.com"}, "api")
        db.commit()
    _drain(worker)
    with sessions() as db:
        remote = db.scalars(select(Link)).one().remote_id
        service.delete_record(db, ws, "contacts", contact.id, "api")
        db.commit()
    _drain(worker)
    assert crm.deleted == [remote]
    with sessions() as db:  # a late read of the remote record finds the deleted record
        assert db.scalars(select(Link.record_id)).all() == [contact.id]


def test_a_killed_workers_jobs_are_reaped_and_pushed_once_more(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, _i) = world
    with sessions() as db:
        service.create_record(db, ws, "contacts", {"email": "k@x.com"}, "api")
        db.commit()
        claim = jobs.claim(db, "killed", batch_limit=lambda _i, _o: 10, lease=timedelta(0))
        assert claim is not None  # ... and the worker holding it dies here
        assert worker.run_once() is False
        assert jobs.reap_expired(db) == 1
    assert worker.run_once() and len(crm.records) == 1
    with sessions() as db:
        assert _job_states(db) == [("succeeded", 1, None)]  # the lost try counted once


def test_backoff_policy_has_jitter_within_bounds() -> None:
    policy = RetryPolicy(attempts=5, base=1, cap=16, jitter=0.2)
    rng = random.Random(7)
    for retry, base in enumerate([1, 2, 4, 8, 16]):
        delay = policy.delay(retry, rng)
        assert base <= delay <= base * 1.2


def _due_now(db: Session) -> None:
    """The backoff has passed (the clock is not waited for)."""
    db.execute(update(SyncJob).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.execute(update(SyncObjectState).values(backoff_until=None))
    db.commit()


def _settle_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A settle that pushed fine breaks a constraint when it stores the Links."""
    write = Settlement.write

    def breaking(self: Settlement, session: Session) -> None:
        if self.linked:
            raise IntegrityError("INSERT INTO links", {}, Exception("UNIQUE links.remote_id"))
        write(self, session)

    monkeypatch.setattr(Settlement, "write", breaking)


@pytest.mark.parametrize("where", ["settle", "push"])
def test_an_exception_after_the_claim_spends_attempts_and_ends_dead(  # type: ignore[no-untyped-def]
    world, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    sessions, crm, worker, (ws, integration_id) = world
    if where == "settle":
        _settle_breaks(monkeypatch)
    else:  # not a connector error: a bug in the connector or the mapping
        crm.raise_next = [KeyError("firstname")] * 3
    with sessions() as db:
        service.create_record(db, ws, "contacts", {"email": "s@x.com"}, "api")
        db.commit()
    states = []
    for _ in range(3):  # the world's integration allows 3 attempts
        assert worker.run_once()
        with sessions() as db:
            states.append(_job_states(db)[0][:2])
            _due_now(db)
    assert states == [("pending", 1), ("pending", 2), ("dead", 3)]
    assert worker.run_once() is False  # nothing left to loop on
    with sessions() as db:
        job = db.scalars(select(SyncJob)).one()
        origin = "IntegrityError" if where == "settle" else "KeyError"
        assert job.error_class == "Unexpected" and job.last_error.startswith(origin)
        assert [r.status for r in db.scalars(select(SyncRun).order_by(SyncRun.started_at))] == [
            "failed"
        ] * 3
        integration = db.get(Integration, integration_id)
        shown = health.report(db, integration)
        assert shown.status == "degraded" and shown.dead_letters == 1


def test_an_exception_after_the_claim_backs_off(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sessions, _crm, worker, (ws, _i) = world
    _settle_breaks(monkeypatch)
    with sessions() as db:
        service.create_record(db, ws, "contacts", {"email": "b@x.com"}, "api")
        db.commit()
    assert worker.run_once()
    assert worker.run_once() is False  # not due again at once
    with sessions() as db:
        job = db.scalars(select(SyncJob)).one()
        assert job.status == "pending" and job.lease_owner is None
        assert job.next_attempt_at.replace(tzinfo=UTC) > datetime.now(UTC)


def test_the_reaper_buries_a_job_whose_last_attempt_was_lost(world) -> None:  # type: ignore[no-untyped-def]
    """A group whose failure could not even be written comes back by its lease: each
    time counts, and after the last attempt it is a dead letter, not a loop."""
    sessions, _crm, _worker, (ws, _i) = world
    with sessions() as db:
        service.create_record(db, ws, "contacts", {"email": "r@x.com"}, "api")
        db.commit()
        at = datetime.now(UTC)
        for _ in range(3):
            claim = jobs.claim(
                db, "lost", batch_limit=lambda _i, _o: 10, lease=timedelta(0), now=at
            )
            assert claim is not None
            at += timedelta(seconds=1)
            assert jobs.reap_expired(db, now=at) == 1
        assert _job_states(db) == [("dead", 3, "LeaseExpired")]


def test_stop_waits_for_its_threads_in_all_not_each(
    queue_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C must not wait ``timeout`` once per busy thread (the clock is a fake one
    that each join moves on by what it waited)."""
    clock = [1000.0]
    monkeypatch.setattr("crmsync.sync.worker.time.monotonic", lambda: clock[0])

    class Busy:
        name = "busy"

        def join(self, timeout: float | None = None) -> None:
            clock[0] += timeout or 0.0

        def is_alive(self) -> bool:
            return True

    worker = Worker(queue_sessions, lambda _s, _i: None, concurrency=2)  # type: ignore[arg-type,return-value]
    worker._threads = [Busy(), Busy(), Busy(), Busy()]  # type: ignore[list-item]
    worker.stop(timeout=5)
    assert clock[0] - 1000.0 == 5
