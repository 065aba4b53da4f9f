"""Events through the API: activities on the contact, engagement, trigger rules that
enrol and unenrol, each firing recorded once, and the role checks of enrolment."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.store.models import Activity, Enrollment, Event, Integration, RuleFiring, SyncJob
from tests.conftest import Tenant
from tests.marketing.helpers import add_journeys

JOURNEYS = [
    {"name": "New Lead Nurture", "category": "Prospecting"},
    {"name": "Pre-Approval Follow-up", "category": "Pipeline"},
    {"name": "Closing Countdown", "category": "Pipeline"},
    {"name": "Old Campaign", "category": "Prospecting", "active": False},
]
RULES = """\
rules:
  - name: new-lead
    on: lead.created
    enroll: {names: [New Lead Nurture]}
  - name: uw-approved
    on: loan.milestone_updated
    when:
      milestone: underwriting_approved
      contact: {contact_type: borrower}
    enroll: {names: [Pre-Approval Follow-up]}
  - name: ctc
    on: loan.milestone_updated
    when: {milestone: clear_to_close}
    enroll: {names: [Closing Countdown]}
  - name: funded-leaves-nurture
    on: loan.milestone_updated
    when: {milestone: funded}
    unenroll: {categories: [Prospecting, Pipeline]}
"""


@pytest.fixture
def setup(
    client: TestClient, tenant: Tenant, sessions: sessionmaker[Session]
) -> tuple[dict[str, uuid.UUID], str]:
    journeys = add_journeys(sessions, tenant.id, JOURNEYS)
    put = client.put(
        "/api/v1/trigger-rules.yaml", content=RULES, headers=tenant.headers(Role.MANAGER)
    )
    assert put.status_code == 200, put.text
    made = client.post(
        "/api/v1/contacts",
        json={"email": f"b-{uuid.uuid4().hex[:6]}@example.com", "contact_type": "borrower"},
        headers=tenant.headers(),
    )
    return journeys, str(made.json()["id"])


def _event(
    client: TestClient, tenant: Tenant, kind: str, data: dict[str, Any], **headers: str
) -> Any:
    answer = client.post(
        "/api/v1/events", json={"type": kind, "data": data}, headers={**tenant.headers(), **headers}
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def _active(db: Session, contact_id: str) -> dict[uuid.UUID, int]:
    rows = db.execute(
        select(Enrollment.journey_id, func.count())
        .where(Enrollment.contact_id == uuid.UUID(contact_id), Enrollment.status == "active")
        .group_by(Enrollment.journey_id)
    )
    return {j: n for j, n in rows}


def test_milestones_enrol_once_and_funded_unenrols(
    client: TestClient, tenant: Tenant, db: Session, setup: tuple[dict[str, uuid.UUID], str]
) -> None:
    journeys, contact = setup
    _event(client, tenant, "lead.created", {"contact_id": contact})
    data = {"contact_id": contact, "milestone": "underwriting_approved", "loan": "L-1"}
    # the same event three times: twice redelivered with its key, once without any
    first = _event(client, tenant, "loan.milestone_updated", data, **{"Idempotency-Key": "m1"})
    _event(client, tenant, "loan.milestone_updated", data, **{"Idempotency-Key": "m1"})
    _event(client, tenant, "loan.milestone_updated", data)
    db.expire_all()
    assert _active(db, contact) == {
        journeys["New Lead Nurture"]: 1,
        journeys["Pre-Approval Follow-up"]: 1,
    }
    firings = client.get(
        "/api/v1/trigger-rules/firings", params={"event_id": first["id"]}, headers=tenant.headers()
    ).json()["items"]
    assert [(f["journey_id"], f["outcome"]) for f in firings] == [
        (str(journeys["Pre-Approval Follow-up"]), "enrolled")
    ]
    outcomes = db.scalars(
        select(RuleFiring.outcome).where(RuleFiring.contact_id == uuid.UUID(contact))
    ).all()
    assert sorted(outcomes) == ["already_enrolled", "enrolled", "enrolled"]

    _event(client, tenant, "loan.milestone_updated", {**data, "milestone": "funded"})
    db.expire_all()
    assert _active(db, contact) == {}
    listed = client.get(f"/api/v1/contacts/{contact}/journeys", headers=tenant.headers()).json()
    assert {(e["journey_name"], e["status"]) for e in listed["items"]} == {
        ("New Lead Nurture", "unenrolled"),
        ("Pre-Approval Follow-up", "unenrolled"),
    }
    assert all(e["ended_by"] == "rule:funded-leaves-nurture" for e in listed["items"])


def test_contact_filters_decide(
    client: TestClient, tenant: Tenant, db: Session, setup: tuple[dict[str, uuid.UUID], str]
) -> None:
    journeys, _borrower = setup
    realtor = client.post(
        "/api/v1/contacts", json={"contact_type": "realtor", "last_name": "R"},
        headers=tenant.headers(),
    ).json()["id"]  # fmt: skip
    data = {"contact_id": realtor, "milestone": "underwriting_approved"}
    _event(client, tenant, "loan.milestone_updated", data)
    _event(client, tenant, "loan.milestone_updated", {**data, "milestone": "clear_to_close"})
    db.expire_all()
    assert _active(db, realtor) == {journeys["Closing Countdown"]: 1}


def test_an_event_becomes_an_activity_and_moves_engagement(
    client: TestClient, tenant: Tenant, db: Session, setup: tuple[dict[str, uuid.UUID], str]
) -> None:
    _journeys, contact = setup
    before = client.get(f"/api/v1/contacts/{contact}/engagement", headers=tenant.headers())
    assert before.json()["score"] == 0
    _event(client, tenant, "call.logged", {"contact_id": contact, "subject": "Rate question"})
    _event(client, tenant, "email.opened", {"contact_id": contact, "channel": "email"})
    _event(client, tenant, "lead.created", {"contact_id": contact})  # no interaction
    db.expire_all()
    kinds = db.scalars(select(Activity.type).where(Activity.contact_id == uuid.UUID(contact))).all()
    assert sorted(kinds) == ["call", "email"]
    answer = client.get(f"/api/v1/contacts/{contact}/engagement", headers=tenant.headers()).json()
    assert answer["score"] == pytest.approx(13.0, abs=0.05)
    assert [c["type"] for c in answer["contributions"]] == ["call", "email"]
    record = client.get(f"/api/v1/contacts/{contact}", headers=tenant.headers()).json()
    assert record["engagement_score"] == pytest.approx(answer["score"], abs=0.05)


def test_crossing_the_threshold_emits_high_then_cooled(
    client: TestClient, tenant: Tenant, db: Session, setup: tuple[dict[str, uuid.UUID], str]
) -> None:
    _journeys, contact = setup
    manager = tenant.headers(Role.MANAGER)
    model = {"engagement": {"high_threshold": 20, "cooled_threshold": 10}}
    assert client.put("/api/v1/marketing/settings", json=model, headers=manager).status_code == 200
    for _ in range(2):
        _event(client, tenant, "meeting.held", {"contact_id": contact})
    emitted = db.scalars(
        select(Event.type).where(Event.workspace_id == tenant.id, Event.type.like("engagement.%"))
    ).all()
    assert emitted == ["engagement.high"]
    db.expire_all()
    assert _active(db, contact) == {}  # no rule on engagement.high yet
    model["engagement"] |= {"weights": {"meeting": 1.0}}  # meetings count for little now
    client.put("/api/v1/marketing/settings", json=model, headers=manager)
    assert client.post("/api/v1/engagement/recompute", headers=manager).json()["changed"] >= 1
    db.expire_all()
    emitted = db.scalars(
        select(Event.type).where(Event.workspace_id == tenant.id, Event.type.like("engagement.%"))
    ).all()
    assert sorted(emitted) == ["engagement.cooled", "engagement.high"]


def test_roles_for_enrolment_rules_and_stats(
    client: TestClient, tenant: Tenant, make_tenant: Any, setup: tuple[dict[str, uuid.UUID], str]
) -> None:
    journeys, contact = setup
    path = f"/api/v1/contacts/{contact}/journeys/{journeys['Closing Countdown']}"
    assert client.post(f"{path}/enroll", headers=tenant.headers(Role.VIEWER)).status_code == 403
    assert client.post(f"{path}/enroll", headers=tenant.headers(Role.AGENT)).status_code == 201
    assert client.post(f"{path}/enroll", headers=tenant.headers(Role.MANAGER)).status_code == 200
    assert client.delete(path, headers=tenant.headers(Role.VIEWER)).status_code == 403
    assert client.delete(path, headers=tenant.headers(Role.AGENT)).status_code == 200
    assert client.delete(path, headers=tenant.headers(Role.ADMIN)).status_code == 404
    inactive = f"/api/v1/contacts/{contact}/journeys/{journeys['Old Campaign']}/enroll"
    assert client.post(inactive, headers=tenant.headers()).status_code == 422
    other = make_tenant()
    assert client.post(f"{path}/enroll", headers=other.headers()).status_code == 404
    assert (
        client.get("/api/v1/journeys/performance", headers=tenant.headers(Role.AGENT)).status_code
        == 403
    )
    assert (
        client.put(
            "/api/v1/trigger-rules.yaml", content=RULES, headers=tenant.headers(Role.AGENT)
        ).status_code
        == 403
    )
    perf = client.get("/api/v1/journeys/performance", headers=tenant.headers(Role.MANAGER)).json()
    countdown = next(p for p in perf["items"] if p["name"] == "Closing Countdown")
    assert (countdown["enrollments"], countdown["unenrolled"]) == (1, 1)
    assert countdown["by_trigger"] == {"manual": 1}
    stats = client.get("/api/v1/stats/contacts", headers=tenant.headers(Role.ADMIN)).json()
    assert stats["total"] == 1 and stats["new_this_month"] == 1


def test_a_rules_file_with_an_error_is_refused_naming_the_line(
    client: TestClient, tenant: Tenant, setup: tuple[dict[str, uuid.UUID], str]
) -> None:
    broken = RULES.replace("when: {milestone: clear_to_close}", "when: {milestone: clear_to_close")
    answer = client.put("/api/v1/trigger-rules.yaml", content=broken, headers=tenant.headers())
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["details"][0]["line"] == 14 and error["message"].startswith("line 14:")
    assert "from line 13" in error["message"]  # where the unclosed mapping began
    # nothing changed: the four rules stand
    listed = client.get("/api/v1/trigger-rules", headers=tenant.headers()).json()["items"]
    assert len(listed) == 4


def test_completion_and_performance(
    client: TestClient, tenant: Tenant, setup: tuple[dict[str, uuid.UUID], str]
) -> None:
    journeys, contact = setup
    pre = journeys["Pre-Approval Follow-up"]
    data = {"contact_id": contact, "milestone": "underwriting_approved"}
    _event(client, tenant, "loan.milestone_updated", data)
    _event(client, tenant, "journey.completed", {"contact_id": contact, "journey_id": str(pre)})
    manager = tenant.headers(Role.MANAGER)
    perf = client.get(
        "/api/v1/journeys/performance", params={"journey_id": str(pre)}, headers=manager
    ).json()["items"]
    (row,) = perf
    assert (row["enrollments"], row["completed"], row["active"]) == (1, 1, 0)
    assert row["completion_rate"] == 1.0 and row["avg_seconds_to_complete"] >= 0
    assert row["by_trigger"] == {"rule:uw-approved": 1}
    later = client.get(
        "/api/v1/journeys/performance",
        params={"journey_id": str(pre), "start": "2100-01-01T00:00:00Z"},
        headers=manager,
    ).json()["items"]
    assert later[0]["enrollments"] == 0  # nothing enrolled in that range


def test_rules_as_json(client: TestClient, tenant: Tenant, setup: Any) -> None:
    h = tenant.headers(Role.MANAGER)
    body = {
        "name": "rate-alert",
        "event_type": "rate_alert.triggered",
        "conditions": {"contact": {"custom_fields.program": "fha"}},
        "journeys": {"categories": ["Pipeline"]},
    }
    made = client.post("/api/v1/trigger-rules", json=body, headers=h)
    assert made.status_code == 201, made.text
    assert client.post("/api/v1/trigger-rules", json=body, headers=h).status_code == 409
    rule = made.json()["id"]
    changed = client.put(
        f"/api/v1/trigger-rules/{rule}", json={**body, "action": "unenroll"}, headers=h
    )
    assert changed.json()["action"] == "unenroll"
    bad = client.post(
        "/api/v1/trigger-rules", json={**body, "name": "x", "event_type": "Nope"}, headers=h
    )
    assert bad.status_code == 422 and "event type" in bad.json()["error"]["message"]
    exported = client.get("/api/v1/trigger-rules.yaml", headers=h).text
    assert "name: rate-alert" in exported and "unenroll:" in exported
    assert client.delete(f"/api/v1/trigger-rules/{rule}", headers=h).status_code == 204
    assert client.get(f"/api/v1/trigger-rules/{rule}", headers=h).status_code == 404


def test_rules_can_follow_engagement_high(
    client: TestClient, tenant: Tenant, db: Session, setup: tuple[dict[str, uuid.UUID], str]
) -> None:
    journeys, contact = setup
    manager = tenant.headers(Role.MANAGER)
    hot = {
        "name": "hot-lead",
        "event_type": "engagement.high",
        "journeys": {"names": ["Closing Countdown"]},
    }
    assert client.post("/api/v1/trigger-rules", json=hot, headers=manager).status_code == 201
    model = {"engagement": {"high_threshold": 20, "cooled_threshold": 10}}
    assert client.put("/api/v1/marketing/settings", json=model, headers=manager).status_code == 200
    _event(client, tenant, "meeting.held", {"contact_id": contact})
    db.expire_all()
    assert _active(db, contact) == {}  # 15 points: not yet
    _event(client, tenant, "meeting.held", {"contact_id": contact})
    db.expire_all()
    assert _active(db, contact) == {journeys["Closing Countdown"]: 1}


def test_the_timeline_policy_chooses_types_per_crm(
    client: TestClient, tenant: Tenant, db: Session, sessions: sessionmaker[Session]
) -> None:
    """Calls go to Salesforce at once; Total Expert takes every type, at its next slot;
    a provider without a policy (HubSpot) gets none."""
    for provider in ("salesforce", "totalexpert", "hubspot"):
        add_journeys(sessions, tenant.id, [], provider=provider, status="connected")
    policy = {
        "timeline": {"salesforce": {"types": ["call"]}, "totalexpert": {"interval_minutes": 15}}
    }
    manager = tenant.headers(Role.MANAGER)
    assert client.put("/api/v1/marketing/settings", json=policy, headers=manager).status_code == 200
    contact = client.post("/api/v1/contacts", json={"last_name": "T"}, headers=tenant.headers())
    for kind in ("call.logged", "message.sent"):
        _event(client, tenant, kind, {"contact_id": contact.json()["id"]})
    rows = db.execute(
        select(Integration.provider, Activity.type, SyncJob.next_attempt_at)
        .join(SyncJob, SyncJob.integration_id == Integration.id)
        .join(Activity, Activity.id == SyncJob.record_id)
        .where(SyncJob.workspace_id == tenant.id, SyncJob.object_type == "timeline")
    ).all()
    assert sorted((p, t) for p, t, _at in rows) == [
        ("salesforce", "call"), ("totalexpert", "call"), ("totalexpert", "message"),
    ]  # fmt: skip
    slots = {p: at for p, _t, at in rows}
    assert slots["totalexpert"].minute % 15 == 0 and slots["totalexpert"] > slots["salesforce"]
