"""``POST /api/v1/events`` and its Idempotency-Key."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.store.models import Event
from tests.conftest import Tenant


def _count(db: Session, tenant: Tenant) -> int:
    return (
        db.scalar(select(func.count()).select_from(Event).where(Event.workspace_id == tenant.id))
        or 0
    )


def test_same_key_same_body_same_answer(client: TestClient, tenant: Tenant, db: Session) -> None:
    h = {**tenant.headers(), "Idempotency-Key": "k-1"}
    body = {"type": "loan.milestone_updated", "data": {"loan": "L1", "milestone": "approved"}}
    first = client.post("/api/v1/events", json=body, headers=h)
    second = client.post("/api/v1/events", json=body, headers=h)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert _count(db, tenant) == 1


def test_same_key_other_body_is_409(client: TestClient, tenant: Tenant, db: Session) -> None:
    h = {**tenant.headers(), "Idempotency-Key": "k-2"}
    client.post("/api/v1/events", json={"type": "message.sent", "data": {"n": 1}}, headers=h)
    clash = client.post(
        "/api/v1/events", json={"type": "message.sent", "data": {"n": 2}}, headers=h
    )
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "idempotency_conflict"
    assert _count(db, tenant) == 1


def test_keys_are_per_workspace_and_optional(client: TestClient, make_tenant, db: Session) -> None:  # type: ignore[no-untyped-def]
    a, b = make_tenant(), make_tenant()
    body = {"type": "rate_alert.triggered", "data": {}}
    for t in (a, b):
        answer = client.post(
            "/api/v1/events", json=body, headers={**t.headers(), "Idempotency-Key": "same"}
        )
        assert answer.status_code == 202
    client.post("/api/v1/events", json=body, headers=a.headers())
    client.post("/api/v1/events", json=body, headers=a.headers())
    assert _count(db, a) == 3 and _count(db, b) == 1


def test_bad_events(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    for body in (
        {"type": "Lead Created"},
        {"data": {}},
        {"type": "lead.created", "data": []},
        {"type": "x.y", "extra": 1},
    ):
        answer = client.post("/api/v1/events", json=body, headers=h)
        assert answer.status_code == 422, body
