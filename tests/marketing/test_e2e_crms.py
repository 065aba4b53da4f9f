"""Whole flows over sockets: crmsync served by uvicorn with its worker, the Total
Expert and HubSpot sandboxes as the CRMs.

- journeys come from both CRMs (Total Expert journeys, HubSpot workflows);
- a ``loan.milestone_updated`` event posted three times enrols the contact once in
  each CRM; ``funded`` takes it out again;
- manual enrolment by a loan officer (agent) reaches the CRM, a viewer is refused;
- activities reach the Total Expert timeline in batches of at most 50.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.demo import ServerThread
from crmsync.demo_crms import standard_fields
from crmsync.marketing.schedule import JourneyRefresher
from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.totalexpert.sandbox import TotalExpertSandbox
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.store.models import Integration, Journey, Link, SyncJob, SyncRun
from crmsync.sync.targets import TargetResolver, set_object_mapping
from crmsync.sync.worker import Worker
from crmsync.workspaces import create_workspace
from tests.conftest import BACKENDS
from tests.e2e.waiting import wait_for
from tests.services import pg_schema

RULES = """\
rules:
  - name: uw-approved
    on: loan.milestone_updated
    when: {milestone: underwriting_approved}
    enroll: {names: [Pre-Approval Follow-up, New lead welcome]}
  - name: funded-leaves
    on: loan.milestone_updated
    when: {milestone: funded}
    unenroll: {names: [Pre-Approval Follow-up, New lead welcome]}
"""


@dataclass
class World:
    api: dict[Role, httpx.Client]
    te: TotalExpertSandbox
    hubspot: HubSpotSandbox
    integrations: dict[str, uuid.UUID]
    sessions: sessionmaker[Session]
    resolver: TargetResolver

    def remote_contact(self, provider: str, contact_id: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(
                select(Link.remote_id).where(
                    Link.integration_id == self.integrations[provider],
                    Link.object_type == "contacts",
                    Link.record_id == uuid.UUID(contact_id),
                )
            )

    def te_enrolment(self, journey: int, remote: str) -> str | None:
        found = self.te.account.enrollments.get((journey, int(remote)))
        return None if found is None else str(found["status"])


@pytest.fixture(params=BACKENDS)
def database_url_e2e(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'e2e.db'}"
        upgrade(url)
        yield url
        return
    with pg_schema() as url:
        upgrade(url)
        yield url


@pytest.fixture
def world(database_url_e2e: str) -> Iterator[World]:
    te = TotalExpertSandbox(SandboxOptions(rate_profile="off"))
    hubspot = HubSpotSandbox(SandboxOptions(rate_profile="off"))
    crms = SandboxServer([te, hubspot]).start()
    engine = make_engine(database_url_e2e)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        workspace = create_workspace(session, "mortgage app")
        keys = {role: create_api_key(session, workspace.id, role)[1] for role in Role}
    settings = Settings(database_url=database_url_e2e, mode="test", sandbox_mode=True)
    server = ServerThread(settings, 0)
    base = f"http://127.0.0.1:{server.start()}"
    api = {
        role: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=20)
        for role, key in keys.items()
    }
    credentials = {
        "totalexpert": {"client_id": te.tokens.client_id, "client_secret": te.tokens.client_secret},
        "hubspot": {"access_token": hubspot.tokens.private_token},
    }
    integrations = {}
    for name, secret in credentials.items():
        made = api[Role.ADMIN].post(
            "/api/v1/integrations",
            json={
                "provider": name,
                "name": name,
                "credentials": secret,
                "base_url": crms.url(name),
                "config": {"objects": {"contacts": "outbound"}},
            },
        )
        assert made.status_code == 201, made.text
        integrations[name] = uuid.UUID(made.json()["id"])
        with session_scope(sessions) as session:
            integration = session.get(Integration, integrations[name])
            assert integration is not None
            if name == "hubspot":  # the portal has none of the default's custom properties
                mapping = standard_fields(name, "contacts")
                set_object_mapping(session, integration, "contacts", mapping)
    resolver = TargetResolver(settings)
    worker = Worker(sessions, resolver, poll_interval=0.05)
    worker.start()
    yield World(api, te, hubspot, integrations, sessions, resolver)
    worker.stop()
    for client in api.values():
        client.close()
    server.stop()
    crms.stop()
    engine.dispose()


def _contact(world: World) -> tuple[str, str]:
    email = f"borrower-{uuid.uuid4().hex[:8]}@example.com"
    made = world.api[Role.AGENT].post(
        "/api/v1/contacts",
        json={
            "email": email,
            "first_name": "Bo",
            "last_name": "Rower",
            "contact_type": "borrower",
            "owner": "agent-2",  # the loan officer, a Total Expert user
        },
    )
    assert made.status_code == 201, made.text
    contact_id = str(made.json()["id"])
    for provider in ("totalexpert", "hubspot"):
        wait_for(lambda p=provider: world.remote_contact(p, contact_id), 15.0)
    return contact_id, email


def _journeys(world: World) -> dict[str, dict[str, Any]]:
    listed = world.api[Role.AGENT].get("/api/v1/journeys").json()
    return {j["name"]: j for j in listed["items"]}


def test_milestone_enrols_once_in_each_crm_and_funded_unenrols(world: World) -> None:
    journeys = _journeys(world)
    assert {"Pre-Approval Follow-up", "New lead welcome"} <= journeys.keys()
    welcome = journeys["New lead welcome"]
    assert welcome["integration_id"] == str(world.integrations["hubspot"])
    assert [s["delay_minutes"] for s in welcome["steps"]] == [0, 2880]
    only_te = (
        world.api[Role.AGENT]
        .get("/api/v1/journeys", params={"integration_id": str(world.integrations["totalexpert"])})
        .json()["items"]
    )
    assert {j["remote_id"] for j in only_te} == {"101", "102", "103"}
    inactive = world.api[Role.AGENT].get("/api/v1/journeys", params={"active": "false"}).json()
    assert {j["remote_id"] for j in inactive["items"]} == {"103", "4003"}
    put = world.api[Role.MANAGER].put("/api/v1/trigger-rules.yaml", content=RULES)
    assert put.status_code == 200, put.text
    contact_id, email = _contact(world)
    te_remote = world.remote_contact("totalexpert", contact_id)
    assert te_remote is not None

    data = {"contact_id": contact_id, "milestone": "underwriting_approved", "loan": "L-77"}
    body = {"type": "loan.milestone_updated", "data": data}
    for headers in ({"Idempotency-Key": "ms-1"}, {"Idempotency-Key": "ms-1"}, {}):
        posted = world.api[Role.AGENT].post("/api/v1/events", json=body, headers=headers)
        assert posted.status_code == 202, posted.text

    wait_for(lambda: world.te_enrolment(102, te_remote) == "active", 15.0)
    wait_for(lambda: world.hubspot.workflows.members(4001) == [email], 15.0)
    wait_for(lambda: _settled(world), 15.0)
    enrol_calls = [
        e for e in world.te.request_log.entries()
        if e["method"] == "POST" and e["path"] == "/v1/journeys/102/enrollments"
    ]  # fmt: skip
    assert len(enrol_calls) == 1
    hubspot_calls = [
        e for e in world.hubspot.request_log.entries()
        if e["method"] == "POST" and e["path"].startswith("/automation/v2/workflows/4001/")
    ]  # fmt: skip
    assert len(hubspot_calls) == 1

    funded = {"type": "loan.milestone_updated", "data": {**data, "milestone": "funded"}}
    assert world.api[Role.AGENT].post("/api/v1/events", json=funded).status_code == 202
    wait_for(lambda: world.te_enrolment(102, te_remote) == "unenrolled", 15.0)
    wait_for(lambda: world.hubspot.workflows.members(4001) == [], 15.0)
    mine = world.api[Role.AGENT].get(f"/api/v1/contacts/{contact_id}/journeys").json()["items"]
    assert {(e["journey_name"], e["status"]) for e in mine} == {
        ("Pre-Approval Follow-up", "unenrolled"),
        ("New lead welcome", "unenrolled"),
    }


def _settled(world: World) -> bool:
    with world.sessions() as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(SyncJob)
            .where(SyncJob.status.in_(("pending", "running")), SyncJob.object_type != "timeline")
        )
    return waiting == 0


def test_manual_enrolment_with_roles_reaches_the_crm(world: World) -> None:
    journeys = _journeys(world)
    contact_id, _email = _contact(world)
    te_remote = world.remote_contact("totalexpert", contact_id)
    assert te_remote is not None
    path = f"/api/v1/contacts/{contact_id}/journeys/{journeys['New Lead Nurture']['id']}"
    assert world.api[Role.VIEWER].post(f"{path}/enroll").status_code == 403
    assert world.api[Role.AGENT].post(f"{path}/enroll").status_code == 201
    assert world.api[Role.AGENT].post(f"{path}/enroll").status_code == 200  # one enrolment
    wait_for(lambda: world.te_enrolment(101, te_remote) == "active", 15.0)
    assert world.api[Role.VIEWER].delete(path).status_code == 403
    assert world.api[Role.MANAGER].delete(path).status_code == 200
    wait_for(lambda: world.te_enrolment(101, te_remote) == "unenrolled", 15.0)
    inactive = journeys["Past Client Anniversary"]["id"]
    refused = world.api[Role.ADMIN].post(
        f"/api/v1/contacts/{contact_id}/journeys/{inactive}/enroll"
    )
    assert refused.status_code == 422


def test_activities_reach_the_total_expert_timeline_in_batches_of_50(world: World) -> None:
    contact_id, _email = _contact(world)
    te_remote = world.remote_contact("totalexpert", contact_id)
    total = 101  # two full batches and one of one
    for n in range(total):
        event = {"type": "message.sent", "data": {"contact_id": contact_id, "subject": f"m{n}"}}
        assert world.api[Role.AGENT].post("/api/v1/events", json=event).status_code == 202
    te_id = world.integrations["totalexpert"]
    with session_scope(world.sessions) as session:
        slots = session.scalars(
            select(SyncJob.next_attempt_at).where(
                SyncJob.integration_id == te_id, SyncJob.object_type == "timeline"
            )
        ).all()
        assert len(slots) == total and len(set(slots)) <= 2  # one 15-minute slot (or two)
        assert all(s > datetime.now(UTC) and s.minute % 15 == 0 and s.second == 0 for s in slots)
        # the slot comes: every job is due at once
        session.execute(
            update(SyncJob)
            .where(SyncJob.integration_id == te_id, SyncJob.object_type == "timeline")
            .values(next_attempt_at=datetime.now(UTC))
        )

    def notes() -> int:
        return sum(1 for n in world.te.account.notes.values() if str(n["contact_id"]) == te_remote)

    wait_for(lambda: notes() == total, 30.0)

    def runs() -> list[int]:
        with world.sessions() as session:
            return list(
                session.scalars(
                    select(SyncRun.processed).where(
                        SyncRun.integration_id == te_id, SyncRun.object_type == "timeline"
                    )
                )
            )

    # the last batch's run is written just after the CRM has its notes
    wait_for(lambda: sum(runs()) == total, 30.0)
    assert max(runs()) <= 50 and len(runs()) >= 3


def test_a_timeline_entry_goes_dead_after_three_attempts(world: World) -> None:
    """Total Expert's timeline policy allows 3 attempts, whatever the integration's
    own retry setting (5 here); then the job is a dead letter."""
    contact_id, _email = _contact(world)
    te_id = world.integrations["totalexpert"]
    with session_scope(world.sessions) as session:
        integration = session.get(Integration, te_id)
        assert integration is not None
        fast = {"attempts": 5, "base_seconds": 0.01, "cap_seconds": 0.02, "jitter": 0}
        integration.config = {**integration.config, "retry": fast}
    world.te.faults.force("503", 1000, "/v1/contact-notes")
    event = {"type": "call.logged", "data": {"contact_id": contact_id}}
    assert world.api[Role.AGENT].post("/api/v1/events", json=event).status_code == 202
    with session_scope(world.sessions) as session:
        session.execute(
            update(SyncJob)
            .where(SyncJob.integration_id == te_id, SyncJob.object_type == "timeline")
            .values(next_attempt_at=datetime.now(UTC))
        )

    def dead() -> SyncJob | None:
        with world.sessions() as session:
            return session.scalar(
                select(SyncJob).where(
                    SyncJob.integration_id == te_id,
                    SyncJob.object_type == "timeline",
                    SyncJob.status == "dead",
                )
            )

    job = wait_for(dead, 30.0)
    assert job.attempts == 3 and job.error_class == "Transient"
    dead_letters = world.api[Role.MANAGER].get("/api/v1/sync-jobs", params={"status": "dead"})
    assert [j["object_type"] for j in dead_letters.json()["items"]] == ["timeline"]


def test_the_catalogue_refreshes_on_schedule(world: World) -> None:
    """The worker's refresher reads a CRM's journeys again once its cache (4 hours)
    has passed, not before."""
    assert "Pre-Approval Follow-up" in _journeys(world)  # the first import
    world.te.account.journeys[102]["name"] = "Pre-Approval Follow-up v2"
    refresher = JourneyRefresher()
    with world.sessions() as session:
        refresher.run(session, world.resolver.connector, now=datetime.now(UTC))
    assert "Pre-Approval Follow-up v2" not in _names(world)  # within the cache
    later = datetime.now(UTC) + timedelta(hours=4, minutes=1)
    with world.sessions() as session:
        assert JourneyRefresher().run(session, world.resolver.connector, now=later) == 2
    assert "Pre-Approval Follow-up v2" in _names(world)


def _names(world: World) -> set[str]:
    with world.sessions() as session:
        return set(session.scalars(select(Journey.name)))


def test_engagement_the_crm_reports_counts_once_per_hour(world: World) -> None:
    """E-mail opens in Total Expert's activity feed join the score (read at most once
    an hour per contact), and are not pushed back to its timeline."""
    contact_id, _email = _contact(world)
    te_remote = world.remote_contact("totalexpert", contact_id)
    for kind in ("Email Opened", "Email Clicked", "Page Viewed"):
        world.te.user_change("activity", None, {"contact_id": te_remote, "type": kind})
    path = f"/api/v1/contacts/{contact_id}/engagement"
    first = world.api[Role.AGENT].get(path).json()
    assert [(c["type"], c["interactions"]) for c in first["contributions"]] == [("email", 2)]
    assert first["score"] == pytest.approx(6.0, abs=0.05)  # two e-mails, 3 points each
    world.te.user_change("activity", None, {"contact_id": te_remote, "type": "Email Opened"})
    again = world.api[Role.AGENT].get(path).json()
    assert again["score"] == first["score"]  # within the hour: not read again
    reads = [e for e in world.te.request_log.entries() if e["path"] == "/v1/activity"]
    assert len(reads) == 1
    with world.sessions() as session:
        timeline = session.scalar(
            select(func.count()).select_from(SyncJob).where(SyncJob.object_type == "timeline")
        )
    assert timeline == 0
