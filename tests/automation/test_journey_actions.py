"""Rule actions that enrol a contact in a journey and take them out of it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.automation import runner
from crmsync.automation.on_event import handle
from crmsync.automation.spec import Action
from crmsync.store.engine import session_scope
from crmsync.store.models import AutomationRun, Enrollment, Event, SyncJob
from tests.conftest import Tenant
from tests.marketing.helpers import add_journeys

LATER = timedelta(seconds=30)


def _run_rules(sessions: sessionmaker[Session]) -> None:
    for _ in range(2):
        with session_scope(sessions) as session:
            runner.run_once(session, datetime.now(UTC) + LATER)


def _event(sessions: sessionmaker[Session], ws: uuid.UUID, kind: str, data: dict) -> None:
    with session_scope(sessions) as session:
        event = Event(workspace_id=ws, type=kind, data=data)
        session.add(event)
        session.flush()
        handle(session, event)
        handle(session, event)  # redelivered: fires nothing twice


def test_an_action_names_its_journey_one_way() -> None:
    with pytest.raises(ValidationError, match="journey_id' or by 'journey'"):
        Action.model_validate({"enroll": {}})
    with pytest.raises(ValidationError, match="journey_id' or by 'journey'"):
        Action.model_validate({"unenroll": {"journey": "A", "journey_id": str(uuid.uuid4())}})
    assert Action.model_validate({"enroll": {"journey": "Nurture"}}).kind == "enroll"


def test_a_converted_lead_enrols_its_contact_and_churn_unenrols(
    client: TestClient, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    h = tenant.headers()
    journeys = add_journeys(sessions, tenant.id, [{"name": "Onboarding"}], status="connected")
    made = client.post(
        "/api/v1/rules",
        json={
            "name": "converted-starts-onboarding",
            "trigger": {"record": "leads", "on": "status_entered", "to": "CONVERTED"},
            "actions": [{"enroll": {"journey": "Onboarding"}}],
        },
        headers=h,
    )
    assert made.status_code == 201, made.text
    client.post(
        "/api/v1/rules",
        json={
            "name": "churn-stops-onboarding",
            "trigger": {"event": "customer.churned"},
            "actions": [{"unenroll": {"journey_id": str(journeys["Onboarding"])}}],
        },
        headers=h,
    )
    contact = client.post("/api/v1/contacts", json={"email": "o@x.com"}, headers=h).json()
    lead = client.post(
        "/api/v1/leads", json={"last_name": "O", "contact_id": contact["id"]}, headers=h
    ).json()
    tried = client.post(
        f"/api/v1/rules/{made.json()['id']}/test",
        json={"record": {"contact_id": contact["id"]}, "changes": {"status": ["NEW", "CONVERTED"]}},
        headers=h,
    ).json()
    assert tried["would_fire"] is True
    assert tried["actions"][0]["params"]["contact_id"] == contact["id"]
    client.patch(f"/api/v1/leads/{lead['id']}", json={"status": "CONVERTED"}, headers=h)
    _run_rules(sessions)
    _run_rules(sessions)  # read again: one enrolment
    with sessions() as session:
        rows = session.scalars(select(Enrollment).where(Enrollment.workspace_id == tenant.id)).all()
        assert [(str(e.contact_id), e.status, e.trigger[:5]) for e in rows] == [
            (contact["id"], "active", "rule:")
        ]
        jobs = session.scalars(
            select(SyncJob).where(
                SyncJob.workspace_id == tenant.id, SyncJob.object_type == "enrollments"
            )
        ).all()
        assert len(jobs) == 1  # the CRM is told
    _event(sessions, tenant.id, "customer.churned", {"contact_id": contact["id"]})
    with sessions() as session:
        row = session.scalars(select(Enrollment).where(Enrollment.workspace_id == tenant.id)).one()
        assert (row.status, row.ended_by[:5]) == ("unenrolled", "rule:")
        statuses = session.scalars(
            select(AutomationRun.status).where(AutomationRun.workspace_id == tenant.id)
        ).all()
    assert sorted(statuses) == ["done", "done"]


def test_an_enrolment_without_a_contact_or_journey_fails_with_its_reason(
    client: TestClient, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    h = tenant.headers()
    add_journeys(sessions, tenant.id, [{"name": "Twice"}, {"name": "Twice", "remote_id": 7}])
    for name, journey in (("no-contact", "Nurture"), ("ambiguous", "Twice"), ("none", "Gone")):
        client.post(
            "/api/v1/rules",
            json={
                "name": name,
                "trigger": {"event": f"test.{name.replace('-', '_')}"},
                "actions": [{"enroll": {"journey": journey}}],
            },
            headers=h,
        )
    contact = client.post("/api/v1/contacts", json={"email": "f@x.com"}, headers=h).json()
    _event(sessions, tenant.id, "test.no_contact", {})
    _event(sessions, tenant.id, "test.ambiguous", {"contact_id": contact["id"]})
    _event(sessions, tenant.id, "test.none", {"contact_id": contact["id"]})
    with sessions() as session:
        errors = sorted(
            session.scalars(
                select(AutomationRun.error).where(AutomationRun.workspace_id == tenant.id)
            ).all()
        )
        enrolled = session.scalars(
            select(Enrollment).where(Enrollment.workspace_id == tenant.id)
        ).all()
    assert enrolled == []
    assert errors == [
        "2 journeys named 'Twice': name it by journey_id",
        "enroll/unenroll needs a contact: the trigger names none; set contact_id",
        "no journey named 'Gone': name it by journey_id",
    ]
