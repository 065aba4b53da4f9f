"""Object types are isolated from each other, and the integration's health shows it.

Real HTTP: the worker pushes to the HubSpot sandbox over a socket, and the sandbox's
forced faults make one object type fail while the others go on.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.connectors.errors import ConfigError, ConnectorError, InvalidRecord, Transient
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.store.models import SyncJob, SyncObjectState, SyncRun
from crmsync.sync.object_state import backoff_until
from crmsync.sync.targets import TargetResolver
from crmsync.sync.worker import Worker
from crmsync.workspaces import create_workspace
from tests.conftest import BACKENDS, create_test_app
from tests.services import pg_schema


@dataclass
class World:
    api: TestClient
    crm: httpx.Client
    sandbox: HubSpotSandbox
    worker: Worker
    sessions: sessionmaker[Session]
    headers: dict[str, str]

    def integration(self, objects: dict[str, Any], **config: Any) -> str:
        """An integration whose retries wait ten minutes unless ``retry`` says otherwise:
        a retried job is due again only when ``time_passes``, never because a loaded
        machine took longer than the real delay between two ``run_once``."""
        config.setdefault("retry", {"base_seconds": 600, "cap_seconds": 600})
        body = {
            "provider": "hubspot",
            "name": "HubSpot sandbox",
            "credentials": {"access_token": self.sandbox.tokens.private_token},
            "base_url": str(self.crm.base_url).rstrip("/"),
            "config": {"objects": objects, **config},
        }
        made = self.api.post("/api/v1/integrations", json=body, headers=self.headers)
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    def create(self, record_type: str, body: dict[str, Any]) -> str:
        made = self.api.post(f"/api/v1/{record_type}", json=body, headers=self.headers)
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    def drain(self) -> None:
        while self.worker.run_once():
            pass

    def time_passes(self) -> None:
        """What waiting would do: every back-off, slot and retry delay is over."""
        past = datetime.now(UTC) - timedelta(seconds=1)
        with self.sessions() as db:
            db.execute(
                update(SyncJob).where(SyncJob.status == "pending").values(next_attempt_at=past)
            )
            db.execute(update(SyncObjectState).values(backoff_until=None, next_push_at=None))
            db.commit()

    def remote(self, object_type: str) -> list[dict[str, Any]]:
        answer = self.crm.get(
            f"/crm/v3/objects/{object_type}",
            params={"limit": 100, "properties": "email,name,firstname"},
            headers={"Authorization": f"Bearer {self.sandbox.tokens.private_token}"},
        )
        answer.raise_for_status()
        return list(answer.json()["results"])

    def health(self, integration_id: str) -> dict[str, Any]:
        answer = self.api.get(f"/api/v1/integrations/{integration_id}/health", headers=self.headers)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def shown(self, integration_id: str) -> dict[str, Any]:
        return dict(
            self.api.get(f"/api/v1/integrations/{integration_id}", headers=self.headers).json()
        )

    def jobs(self, object_type: str) -> list[str]:
        with self.sessions() as db:
            return list(
                db.scalars(select(SyncJob.status).where(SyncJob.object_type == object_type))
            )


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'health.db'}"
        yield from _world(url)
        return
    with pg_schema() as url:
        yield from _world(url)


def _world(url: str) -> Iterator[World]:
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        workspace = create_workspace(session, "health")
        _key, api_key = create_api_key(session, workspace.id, Role.ADMIN)
    sandbox = HubSpotSandbox(batch_delay=0.01)
    server = SandboxServer([sandbox]).start()
    settings = Settings(database_url=url, mode="test", sandbox_mode=True)
    app = create_test_app(url, engine, sandbox_mode=True)
    worker = Worker(sessions, TargetResolver(settings), concurrency=1)
    crm = httpx.Client(base_url=server.url("hubspot"), timeout=10)
    with TestClient(app, raise_server_exceptions=False) as api:
        yield World(api, crm, sandbox, worker, sessions, {"Authorization": f"Bearer {api_key}"})
    crm.close()
    server.stop()
    engine.dispose()


def _object(health: dict[str, Any], object_type: str) -> dict[str, Any]:
    return next(o for o in health["objects"] if o["object_type"] == object_type)


def test_a_failing_object_type_leaves_the_others_syncing(world: World) -> None:
    iid = world.integration({"contacts": "both", "companies": {"direction": "both", "attempts": 2}})
    world.crm.post(
        "/_sandbox/faults",
        json={"kind": "503", "count": 1000, "path": "/crm/v3/objects/companies/batch"},
    ).raise_for_status()
    for n in range(2):
        world.create("contacts", {"email": f"c{n}@example.com", "first_name": f"C{n}"})
        world.create("companies", {"name": f"Company {n}"})
    world.drain()

    assert sorted(c["properties"]["email"] for c in world.remote("contacts")) == [
        "c0@example.com",
        "c1@example.com",
    ]
    assert world.remote("companies") == [] and world.jobs("companies") == ["pending"] * 2
    health = world.health(iid)
    contacts, companies = _object(health, "contacts"), _object(health, "companies")
    assert contacts["status"] == "ok" and contacts["last_push_at"] is not None
    assert contacts["pending"] == 0 and contacts["error_rate"] == 0.0
    assert companies["status"] == "failing" and companies["last_push_at"] is None
    assert companies["pending"] == 2 and companies["lag_seconds"] > 0
    assert companies["error_rate"] == 1.0 and "Transient" in companies["last_error"]
    assert health["status"] == "degraded" and health["failing_objects"] == ["companies"]
    shown = world.shown(iid)
    assert shown["status"] == "degraded" and shown["failing_objects"] == ["companies"]
    assert shown["last_error"].startswith("companies: Transient")
    metrics = world.api.get("/metrics").text
    ids = f'integration_id="{iid}"'

    def gauge(name: str, object_type: str) -> str:  # the exposition sorts labels
        return f'crmsync_integration_{name}{{{ids},object_type="{object_type}",provider="hubspot"}}'

    assert f"{gauge('failing', 'companies')} 1.0" in metrics
    assert f"{gauge('failing', 'contacts')} 0.0" in metrics
    assert f"{gauge('pending_jobs', 'companies')} 2.0" in metrics
    assert (
        f'crmsync_integration_status{{{ids},provider="hubspot",status="degraded"}} 1.0' in metrics
    )

    # Its second try is its last (attempts: 2): dead letters, and contacts still go.
    world.time_passes()
    world.drain()
    assert world.jobs("companies") == ["dead"] * 2
    world.create("contacts", {"email": "c2@example.com"})
    world.drain()
    assert len(world.remote("contacts")) == 3
    health = world.health(iid)
    assert health["dead_letters"] == 2 and _object(health, "companies")["dead_letters"] == 2
    assert [s["action"] for s in health["next_steps"]] == ["replay"]
    assert world.shown(iid)["dead_letters"] == 2

    # The CRM recovers; replayed, the companies go out and the integration is healthy.
    world.sandbox.faults.reset()
    replayed = world.api.post("/api/v1/sync-jobs/replay-all", headers=world.headers)
    assert replayed.json() == {"replayed": 2}
    world.drain()
    assert len(world.remote("companies")) == 2
    health = world.health(iid)
    assert _object(health, "companies")["status"] == "ok"
    assert health["status"] == "connected" and health["failing_objects"] == []
    assert health["next_steps"] == []


def test_a_type_that_keeps_failing_backs_off_alone(world: World) -> None:
    world.integration({"contacts": "both", "companies": "both"})
    world.crm.post(
        "/_sandbox/faults",
        json={"kind": "502", "count": 1000, "path": "/crm/v3/objects/companies/batch"},
    ).raise_for_status()
    world.create("companies", {"name": "Acme"})
    for _round in range(3):  # the third failure in a row holds the type
        world.time_passes()
        world.drain()
    with world.sessions() as db:
        state = db.scalars(select(SyncObjectState)).one()
    assert state.object_type == "companies" and state.consecutive_failures == 3
    assert state.backoff_until is not None
    assert state.backoff_until > datetime.now(UTC)
    # a held type is not claimed at all, while a change of another type is
    world.create("contacts", {"email": "x@example.com"})
    with world.sessions() as db:
        db.execute(update(SyncJob).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.commit()
    world.drain()
    assert world.jobs("companies") == ["pending"] and world.jobs("contacts") == ["succeeded"]


def test_a_retry_waits_its_delay_from_the_failure_not_from_the_claim(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A push that is slow to fail (here: the target takes longer to build than the
    retry delay) must not be due again the moment it fails."""
    world.integration({"companies": "both"}, retry={"base_seconds": 1, "jitter": 0})
    world.crm.post(
        "/_sandbox/faults",
        json={"kind": "502", "count": 1000, "path": "/crm/v3/objects/companies/batch"},
    ).raise_for_status()
    resolve = world.worker.resolve

    def slow_resolve(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.5)
        return resolve(*args, **kwargs)

    monkeypatch.setattr(world.worker, "resolve", slow_resolve)
    world.create("companies", {"name": "Acme"})
    world.drain()
    with world.sessions() as db:
        job = db.scalars(select(SyncJob)).one()
    assert (job.status, job.attempts) == ("pending", 1)
    assert job.next_attempt_at is not None
    due = job.next_attempt_at.replace(tzinfo=job.next_attempt_at.tzinfo or UTC)
    assert due > datetime.now(UTC)


def test_one_bad_record_fails_alone_with_the_crms_reason_and_field(world: World) -> None:
    iid = world.integration({"contacts": "both"})
    good = [world.create("contacts", {"email": f"g{n}@example.com"}) for n in range(3)]
    bad = world.create("contacts", {"email": "bad@example.com", "lifecycle_stage": "dragon"})
    world.drain()
    assert len(world.remote("contacts")) == 3
    with world.sessions() as db:
        statuses = dict(db.execute(select(SyncJob.record_id, SyncJob.status)).all())
        runs = list(db.scalars(select(SyncRun).where(SyncRun.direction == "outbound")))
    assert {statuses[uuid.UUID(g)] for g in good} == {"succeeded"}
    assert statuses[uuid.UUID(bad)] == "failed"
    errors = [e for run in runs for e in run.errors]
    assert len(errors) == 1 and errors[0]["record_id"] == bad
    assert errors[0]["field"] == "lifecyclestage" and errors[0]["class"] == "InvalidRecord"
    assert "dragon" in errors[0]["reason"] or "lifecyclestage" in errors[0]["reason"]
    health = world.health(iid)
    assert health["status"] == "degraded" and health["dead_letters"] == 1
    assert health["failing_objects"] == []  # the type itself is fine
    assert [s["action"] for s in health["next_steps"]] == ["fix mapping"]


def test_a_scheduled_type_waits_for_its_slot_and_goes_in_batches(world: World) -> None:
    iid = world.integration(
        {
            "contacts": "both",
            "companies": {"direction": "outbound", "frequency": "1h", "batch_size": 2},
        }
    )
    for n in range(5):
        world.create("companies", {"name": f"Company {n}"})
    world.drain()
    assert len(world.remote("companies")) == 5
    with world.sessions() as db:
        sizes = list(
            db.scalars(
                select(SyncRun.processed)
                .where(SyncRun.object_type == "companies")
                .order_by(SyncRun.started_at)
            )
        )
    assert sizes == [2, 2, 1]

    # Until its slot comes, a new company waits; a contact goes at once.
    world.create("companies", {"name": "Late"})
    world.create("contacts", {"email": "now@example.com"})
    world.drain()
    assert len(world.remote("companies")) == 5 and len(world.remote("contacts")) == 1
    companies = _object(world.health(iid), "companies")
    assert companies["status"] == "scheduled" and companies["pending"] == 1
    slot = datetime.fromisoformat(companies["next_push_at"])
    assert timedelta(minutes=59) < slot - datetime.now(UTC) <= timedelta(hours=1)
    world.time_passes()
    world.drain()
    assert len(world.remote("companies")) == 6


def test_health_reports_the_quota_the_crm_sent(world: World) -> None:
    iid = world.integration({"contacts": "both"})
    world.create("contacts", {"email": "q@example.com"})
    world.drain()
    quota = {q["name"]: q for q in world.health(iid)["quota"]}
    # the sandbox's default tier is HubSpot Professional: 625,000 a day, 190 per 10 s
    assert quota["daily"]["limit"] == 625_000 and quota["daily"]["used"] >= 1
    assert quota["daily"]["remaining"] == 625_000 - quota["daily"]["used"]
    assert quota["burst"]["limit"] == 190
    metrics = world.api.get("/metrics").text
    assert f'crmsync_integration_quota_used{{integration_id="{iid}",provider="hubspot",' in metrics
    assert (
        f'crmsync_integration_status{{integration_id="{iid}",provider="hubspot",'
        'status="connected"} 1.0' in metrics
    )


def test_a_type_whose_poll_fails_leaves_the_other_polls_going(world: World) -> None:
    iid = world.integration({"contacts": "inbound", "companies": "inbound"})
    world.crm.post(
        "/_sandbox/change",
        json={"object_type": "contacts", "fields": {"email": "in@example.com"}},
    ).raise_for_status()
    world.crm.post(
        "/_sandbox/faults",
        json={"kind": "503", "count": 1000, "path": "/crm/v3/objects/companies/search"},
    ).raise_for_status()
    world.worker.run_inbound_once(now=datetime.now(UTC) + timedelta(hours=2))
    found = world.api.get("/api/v1/contacts", headers=world.headers).json()["items"]
    assert [c["email"] for c in found] == ["in@example.com"]
    health = world.health(iid)
    assert _object(health, "contacts")["last_pull_at"] is not None
    assert _object(health, "companies")["status"] == "failing"
    assert health["failing_objects"] == ["companies"] and health["status"] == "degraded"

    world.sandbox.faults.reset()  # the CRM recovers: the next poll of the type clears it
    world.worker.run_inbound_once(now=datetime.now(UTC) + timedelta(hours=4))
    health = world.health(iid)
    assert _object(health, "companies")["status"] == "ok" and health["status"] == "connected"


@pytest.mark.parametrize(
    ("error", "streak", "held_for"),
    [
        (ConfigError("no such object"), 1, 5),
        (ConfigError("no such object"), 2, 10),
        (ConfigError("no such object"), 12, 600),  # capped at 10 minutes
        (Transient("503"), 1, None),  # the jobs' own backoff comes first
        (Transient("503"), 2, None),
        (Transient("503"), 3, 5),
        (Transient("503"), 4, 10),
        (InvalidRecord("bad"), 5, None),  # one record's problem, not the type's
    ],
)
def test_backoff_of_a_failing_type(
    error: ConnectorError, streak: int, held_for: int | None
) -> None:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    until = backoff_until(error, streak, now)
    assert until == (None if held_for is None else now + timedelta(seconds=held_for))


def test_a_property_the_crm_lacks_makes_run_setup_the_next_step(world: World) -> None:
    iid = world.integration({"contacts": "both"})
    # the default mapping writes `source` to the custom property crmsync_source, which a
    # fresh HubSpot account does not have
    world.create("contacts", {"email": "s@example.com", "source": "web"})
    world.drain()
    health = world.health(iid)
    assert health["dead_letters"] == 1
    steps = [s["action"] for s in health["next_steps"]]
    assert steps[0] == "run setup" and "crmsync_source" in health["next_steps"][0]["why"]


def test_a_poll_that_raises_anything_fails_its_type_and_shows(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only a CRM's answer: any exception in a poll (a bug in a mapper, a broken
    constraint) marks the type failing, backs it off, and shows degraded."""
    from crmsync.sync import inbound_runner

    real_poll = inbound_runner.poll

    def poll(session: Session, integration: Any, object_type: str, *a: Any, **k: Any) -> Any:
        if object_type == "companies":
            raise KeyError("domain")
        return real_poll(session, integration, object_type, *a, **k)

    monkeypatch.setattr(inbound_runner, "poll", poll)
    iid = world.integration({"contacts": "inbound", "companies": "inbound"})
    world.worker.run_inbound_once(now=datetime.now(UTC) + timedelta(hours=2))
    health = world.health(iid)
    companies = _object(health, "companies")
    assert companies["status"] == "failing" and "KeyError" in companies["last_error"]
    assert health["failing_objects"] == ["companies"] and health["status"] == "degraded"
    assert _object(health, "contacts")["last_pull_at"] is not None


def test_changes_waiting_too_long_show_the_type_lagging_with_a_next_step(world: World) -> None:
    """No worker ran: the type is not failing, but its changes wait. Past fifteen
    minutes it shows ``lagging``, and the next step says to look at the workers."""
    iid = world.integration({"contacts": "both", "companies": "both"})
    world.create("contacts", {"email": "waits@example.com"})
    world.create("companies", {"name": "Recent"})

    def aged(object_type: str, minutes: int) -> None:
        with world.sessions() as db:
            db.execute(
                update(SyncJob)
                .where(SyncJob.object_type == object_type)
                .values(enqueued_at=datetime.now(UTC) - timedelta(minutes=minutes))
            )
            db.commit()

    aged("contacts", 14)
    health = world.health(iid)
    assert _object(health, "contacts")["status"] == "ok"
    assert "check workers" not in [s["action"] for s in health["next_steps"]]

    aged("contacts", 20)
    health = world.health(iid)
    contacts, companies = _object(health, "contacts"), _object(health, "companies")
    assert contacts["status"] == "lagging" and contacts["lag_seconds"] >= 20 * 60
    assert companies["status"] == "ok"
    step = next(s for s in health["next_steps"] if s["action"] == "check workers")
    assert step["why"].startswith("contacts:") and "20 min" in step["why"]
    assert health["status"] == "connected"  # lagging is not failing

    world.drain()  # a worker runs: nothing waits any more
    health = world.health(iid)
    assert _object(health, "contacts")["status"] == "ok"
    assert "check workers" not in [s["action"] for s in health["next_steps"]]
