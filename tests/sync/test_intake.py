"""Group commit of webhook events: stored before answered, replays dropped, one bad
delivery fails alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.store.models import Integration, WebhookEvent
from crmsync.sync.intake import EventWriter, Received, _answers, _Delivery


def _integration(sessions: sessionmaker[Session], workspace_id: uuid.UUID) -> Integration:
    with sessions() as session:
        integration = Integration(
            workspace_id=workspace_id, provider="hubspot", name="intake", config={}
        )
        session.add(integration)
        session.commit()
        return integration


def _row(integration: Integration, event_id: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "workspace_id": integration.workspace_id,
        "integration_id": integration.id,
        "provider": "hubspot",
        "event_id": event_id,
        "received_at": datetime.now(UTC),
        "verified": True,
        "payload": {"object_type": "contacts"},
    }


def _stored(sessions: sessionmaker[Session], integration: Integration) -> int:
    with sessions() as session:
        count = select(func.count()).where(WebhookEvent.integration_id == integration.id)
        return int(session.scalar(count) or 0)


def test_deliveries_are_stored_and_replays_dropped(db: Session, tenant: Any) -> None:
    sessions = sessionmaker(db.get_bind(), expire_on_commit=False)
    integration = _integration(sessions, tenant.id)
    writer = EventWriter(sessions)
    try:
        first = writer.submit([_row(integration, "e1"), _row(integration, "e2")]).result(10)
        again = writer.submit([_row(integration, "e2"), _row(integration, "e3")]).result(10)
    finally:
        writer.close()
    assert (first, again) == (Received(2, 0), Received(1, 1))
    assert _stored(sessions, integration) == 3


def test_an_event_twice_in_one_group_is_stored_once() -> None:
    key = uuid.uuid4()
    a = _Delivery([{"integration_id": key, "event_id": "x"}])
    b = _Delivery(
        [{"integration_id": key, "event_id": "x"}, {"integration_id": key, "event_id": "y"}]
    )
    assert _answers([a, b], {(key, "x"), (key, "y")}) == [Received(1, 0), Received(1, 1)]


def test_a_bad_delivery_fails_alone_and_the_rest_are_stored(db: Session, tenant: Any) -> None:
    sessions = sessionmaker(db.get_bind(), expire_on_commit=False)
    integration = _integration(sessions, tenant.id)
    bad = _row(integration, "bad")
    bad["integration_id"] = uuid.uuid4()  # no such integration: the foreign key refuses it
    writer = EventWriter(sessions)
    try:
        # Held back until all three are queued, so they are written as one group.
        with writer._wake:
            futures = [
                writer.submit([_row(integration, "ok1")]),
                writer.submit([bad]),
                writer.submit([_row(integration, "ok2")]),
            ]
        results = [f.exception(10) or f.result() for f in futures]
    finally:
        writer.close()
    assert results[0] == Received(1, 0) and results[2] == Received(1, 0)
    assert isinstance(results[1], Exception)
    assert _stored(sessions, integration) == 2


def test_close_writes_what_is_queued(db: Session, tenant: Any) -> None:
    sessions = sessionmaker(db.get_bind(), expire_on_commit=False)
    integration = _integration(sessions, tenant.id)
    writer = EventWriter(sessions)
    future = writer.submit([_row(integration, "last")])
    writer.close()
    assert future.result(1) == Received(1, 0)
    assert _stored(sessions, integration) == 1
