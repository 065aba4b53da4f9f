"""Automation rules: the grammar, the API, the templates end to end, once per change, loops."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.automation import runner
from crmsync.automation.conditions import ConditionInvalid, check, holds
from crmsync.automation.on_event import handle
from crmsync.records import service
from crmsync.store.engine import session_scope
from crmsync.store.models import Activity, Alert, AutomationRun, Deal, Event, OutboundEvent
from tests.conftest import Tenant

LATER = timedelta(seconds=30)  # past the runner's settle window


def _run_rules(sessions: sessionmaker[Session]) -> None:
    for _ in range(3):  # a rule's own writes are read on the next round
        with session_scope(sessions) as session:
            runner.run_once(session, datetime.now(UTC) + LATER)


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"field": "record.stage", "op": "eq", "value": "won"}, {"record": {"stage": "won"}}, True),
        ({"field": "record.amount", "op": "gt", "value": 10}, {"record": {"amount": 5}}, False),
        ({"field": "record.amount", "op": "gt", "value": 10}, {"record": {"amount": "x"}}, False),
        ({"field": "record.x", "op": "in", "value": [1, 2]}, {"record": {"x": 2}}, True),
        ({"field": "record.x", "op": "exists"}, {"record": {}}, False),
        ({"not": {"field": "a", "value": 1}}, {"a": 2}, True),
        (
            {
                "all": [
                    {"field": "a", "value": 1},
                    {"any": [{"field": "b", "value": 2}, {"field": "c", "value": 3}]},
                ]
            },
            {"a": 1, "c": 3},
            True,
        ),
    ],
)
def test_conditions(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    check(condition)
    assert holds(condition, context) is expected


@pytest.mark.parametrize(
    "bad",
    [
        {"field": "x", "op": "matches", "value": ".*"},
        {"field": "x", "op": "in", "value": "abc"},
        {"all": []},
        {"all": [{"field": "x", "value": 1}], "field": "y"},
        {"field": "__import__('os')", "op": "eq"},
        {"code": "os.system('x')"},
    ],
)
def test_anything_outside_the_grammar_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ConditionInvalid):
        check(bad)


def test_a_yaml_rule_with_a_mistake_is_refused_naming_its_line(
    client: TestClient, tenant: Tenant
) -> None:
    text = (
        "rules:\n"
        "  - name: fine\n"
        "    trigger: {record: deals, on: stage_entered, to: closedwon}\n"
        "    actions: [{emit: {type: deal.won}}]\n"
        "  - name: broken\n"
        "    trigger: {record: contacts, on: stage_entered, to: x}\n"
        "    actions: [{emit: {type: a.b}}]\n"
    )
    answer = client.put("/api/v1/rules/yaml", content=text, headers=tenant.headers())
    assert answer.status_code == 422
    assert answer.json()["error"]["message"].startswith("line 5 (rule 'broken'):")
    assert "stage_entered is for deals" in answer.json()["error"]["message"]
    syntax = client.put(
        "/api/v1/rules/yaml", content="rules:\n  - name: [unclosed\n", headers=tenant.headers()
    )
    assert syntax.status_code == 422 and "line" in syntax.json()["error"]["message"]


def test_rules_are_versioned_and_dry_run(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    body = {
        "name": "big-deals",
        "trigger": {"record": "deals", "on": "stage_entered", "to": "closedwon"},
        "when": {"field": "record.amount", "op": "gte", "value": 1000},
        "actions": [{"emit": {"type": "deal.won", "data": {"deal": "{{record.id}}"}}}],
    }
    made = client.post("/api/v1/rules", json=body, headers=h)
    assert made.status_code == 201, made.text
    rule_id = made.json()["id"]
    replaced = client.put(
        f"/api/v1/rules/{rule_id}",
        json={**body, "when": {"field": "record.amount", "op": "gte", "value": 5000}},
        headers=h,
    )
    assert replaced.json()["version"] == 2
    versions = client.get(f"/api/v1/rules/{rule_id}/versions", headers=h).json()["items"]
    assert [v["version"] for v in versions] == [1, 2]
    sample = {"record": {"id": str(uuid.uuid4()), "amount": 7000},
              "changes": {"stage": ["negotiation", "closedwon"]}}  # fmt: skip
    tried = client.post(f"/api/v1/rules/{rule_id}/test", json=sample, headers=h).json()
    assert tried["would_fire"] is True
    assert tried["actions"][0]["params"]["data"]["deal"] == sample["record"]["id"]
    small = {**sample, "record": {"amount": 100}}
    assert client.post(f"/api/v1/rules/{rule_id}/test", json=small, headers=h).json() == {
        "would_fire": False,
        "actions": [],
    }
    agent = client.post(
        "/api/v1/rules", json={**body, "name": "x"}, headers=tenant.headers(Role.AGENT)
    )
    assert agent.status_code == 403


def test_realtor_template_converted_lead_becomes_a_deal_once(
    client: TestClient, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    h = tenant.headers()
    installed = client.post("/api/v1/rules/templates/realtor-lead-status", headers=h)
    assert installed.status_code == 200 and installed.json()["installed"] == ["created"] * 2
    contact = client.post("/api/v1/contacts", json={"email": "ana@x.com"}, headers=h).json()
    lead = client.post(
        "/api/v1/leads",
        json={"first_name": "Ana", "last_name": "Lima", "contact_id": contact["id"],
              "property_ref": "P-9", "status": "NEW"},
        headers=h,
    ).json()  # fmt: skip
    client.patch(f"/api/v1/leads/{lead['id']}", json={"status": "VIEWING_SCHEDULED"}, headers=h)
    client.patch(f"/api/v1/leads/{lead['id']}", json={"status": "CONVERTED"}, headers=h)
    _run_rules(sessions)
    _run_rules(sessions)  # read again: nothing fires twice
    with sessions() as session:
        deals = session.scalars(select(Deal).where(Deal.workspace_id == tenant.id)).all()
        meetings = session.scalars(
            select(Activity).where(Activity.workspace_id == tenant.id, Activity.type == "meeting")
        ).all()
        converted = session.scalars(
            select(OutboundEvent).where(
                OutboundEvent.workspace_id == tenant.id, OutboundEvent.type == "lead.converted"
            )
        ).all()
    assert [(d.name, str(d.contact_id), d.stage) for d in deals] == [
        ("Ana Lima (P-9)", contact["id"], "APPOINTMENT_SCHEDULED")
    ]
    assert [(m.subject, str(m.lead_id)) for m in meetings] == [("Viewing of P-9", lead["id"])]
    assert len(converted) == 1 and converted[0].payload["lead_id"] == lead["id"]
    rules = client.get("/api/v1/rules", headers=h).json()["items"]
    convert = next(r for r in rules if r["name"] == "converted-lead-becomes-deal")
    runs = client.get(f"/api/v1/rules/{convert['id']}/runs", headers=h).json()["items"]
    assert [r["status"] for r in runs if r["status"] == "done"] == ["done"]
    assert all(r["record_id"] == lead["id"] for r in runs)


def test_health_template_acts_on_crm_stage_changes(
    client: TestClient, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    h = tenant.headers()
    client.post("/api/v1/rules/templates/health-deal-stages", headers=h)
    deal = client.post(
        "/api/v1/deals", json={"name": "Clinic", "stage": "qualified", "amount": "900"}, headers=h
    ).json()
    with session_scope(sessions) as session:  # as an inbound sync applies a HubSpot change
        service.update_record(
            session, tenant.id, "deals", uuid.UUID(deal["id"]), {"stage": "NEGOTIATION"}, "crm:x"
        )
    with session_scope(sessions) as session:
        service.update_record(
            session, tenant.id, "deals", uuid.UUID(deal["id"]), {"stage": "CLOSED_WON"}, "crm:x"
        )
    _run_rules(sessions)
    with sessions() as session:
        types = session.scalars(
            select(OutboundEvent.type).where(OutboundEvent.workspace_id == tenant.id)
        ).all()
        alerts = session.scalars(select(Alert).where(Alert.workspace_id == tenant.id)).all()
        tasks = session.scalars(select(Activity).where(Activity.workspace_id == tenant.id)).all()
    assert types.count("deal.won") == 1 and "deal.lost" not in types  # crmsync's own
    assert types.count("onboarding.requested") == 1  # the rule's
    assert [a.message for a in alerts] == ["Clinic is in negotiation (900.00)"]
    assert [t.subject for t in tasks] == ["Start onboarding for Clinic"]
    assert tasks[0].data["task"]["status"] == "open"


def test_a_rule_that_triggers_itself_is_stopped(
    client: TestClient, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    h = tenant.headers()
    body = {
        "name": "echo",
        "trigger": {"record": "contacts", "on": "changed", "field": "city"},
        "actions": [{"update_fields": {"city": "{{record.city}}!"}}],
    }
    rule = client.post("/api/v1/rules", json=body, headers=h).json()
    contact = client.post("/api/v1/contacts", json={"email": "e@x.com"}, headers=h).json()
    client.patch(f"/api/v1/contacts/{contact['id']}", json={"city": "Oslo"}, headers=h)
    _run_rules(sessions)
    got = client.get(f"/api/v1/contacts/{contact['id']}", headers=h).json()
    assert got["city"] == "Oslo!"  # acted once, then stopped
    runs = client.get(f"/api/v1/rules/{rule['id']}/runs", headers=h).json()["items"]
    assert sorted(r["status"] for r in runs) == ["done", "loop"]


def _task_rule_and_contact(
    client: TestClient, tenant: Tenant, name: str, event: str, when: dict[str, Any], subject: str
) -> dict[str, Any]:
    """Rule `name`, making a task with `subject` on `event` when `when` holds, and a contact
    for the events to name; the contact."""
    h = tenant.headers()
    rule = {
        "name": name,
        "trigger": {"event": event},
        "when": when,
        "actions": [{"create_task": {"subject": subject}}],
    }
    client.post("/api/v1/rules", json=rule, headers=h).raise_for_status()
    made = client.post("/api/v1/contacts", json={"email": f"{name}@x.com"}, headers=h)
    made.raise_for_status()
    contact: dict[str, Any] = made.json()
    return contact


def test_app_events_fire_event_rules_once(
    client: TestClient, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    when = {"field": "event.data.drop", "op": "gte", "value": 0.25}
    subject = "Call about the {{event.data.drop}} drop"
    contact = _task_rule_and_contact(
        client, tenant, "rate-alert-call", "rate_alert.*", when, subject
    )
    with session_scope(sessions) as session:
        event = Event(
            workspace_id=tenant.id,
            type="rate_alert.triggered",
            data={"contact_id": contact["id"], "drop": 0.5},
        )
        session.add(event)
        session.flush()
        handle(session, event)
        handle(session, event)  # redelivered
    with sessions() as session:
        tasks = session.scalars(select(Activity).where(Activity.workspace_id == tenant.id)).all()
        runs = session.scalars(select(AutomationRun.status)).all()
    assert [(t.subject, str(t.contact_id)) for t in tasks] == [
        ("Call about the 0.5 drop", contact["id"])
    ]
    assert "done" in runs


def test_events_posted_to_the_api_fire_event_rules_once(
    client: TestClient, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    h = tenant.headers()
    when = {"field": "event.data.score", "op": "lte", "value": 6}
    subject = "Call back: score {{event.data.score}}"
    contact = _task_rule_and_contact(
        client, tenant, "survey-task", "survey.answered", when, subject
    )
    for score, key in ((3, "s-1"), (3, "s-1"), (9, "s-2")):  # s-1 sent twice
        sent = client.post(
            "/api/v1/events",
            json={"type": "survey.answered", "data": {"contact_id": contact["id"], "score": score}},
            headers={**h, "Idempotency-Key": key},
        )
        assert sent.status_code == 202, sent.text
    with sessions() as session:
        tasks = session.scalars(
            select(Activity.subject).where(
                Activity.workspace_id == tenant.id, Activity.subject.like("Call back%")
            )
        ).all()
    assert tasks == ["Call back: score 3"]
