"""The event router: subscribers by pattern, in the event's transaction, once per
stored event, and a failing subscriber does not cost the app its event."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.events.router import router
from crmsync.store.models import Event
from tests.conftest import Tenant


@pytest.fixture
def seen() -> Iterator[list[str]]:
    calls: list[str] = []

    def loan_events(session: Session, event: Event) -> None:
        calls.append(event.type)

    router.subscribe("loan.*", loan_events)
    yield calls
    router.unsubscribe(loan_events)


def test_subscribers_by_pattern_once_per_event(
    client: TestClient, tenant: Tenant, seen: list[str]
) -> None:
    h = {**tenant.headers(), "Idempotency-Key": "router-1"}
    body = {"type": "loan.application_submitted", "data": {}}
    assert client.post("/api/v1/events", json=body, headers=h).status_code == 202
    assert client.post("/api/v1/events", json=body, headers=h).status_code == 202  # replay
    client.post(
        "/api/v1/events", json={"type": "lead.created", "data": {}}, headers=tenant.headers()
    )
    assert seen == ["loan.application_submitted"]


def test_a_failing_subscriber_leaves_the_event_stored_unprocessed(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    def broken(session: Session, event: Event) -> None:
        session.add(Event(workspace_id=event.workspace_id, type="half.written", data={}))
        raise RuntimeError("subscriber bug")

    router.subscribe("rate_alert.*", broken)
    try:
        answer = client.post(
            "/api/v1/events",
            json={"type": "rate_alert.triggered", "data": {}},
            headers=tenant.headers(),
        )
    finally:
        router.unsubscribe(broken)
    assert answer.status_code == 202
    stored = db.scalars(select(Event).where(Event.workspace_id == tenant.id)).all()
    assert [(e.type, e.processed_at) for e in stored] == [("rate_alert.triggered", None)]
