"""crmsync's own engagement events reach the host app as outbound events."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.events.service import record_event
from crmsync.outbound.relay import RELAYED
from crmsync.store.models import OutboundEvent
from tests.conftest import Tenant


def test_engagement_events_become_outbound_events_keyed_by_contact(
    db: Session, tenant: Tenant
) -> None:
    contact = "0192a0c4-0000-7000-8000-000000000001"
    for kind in (*RELAYED, "engagement.other"):
        record_event(db, tenant.id, {"type": kind, "data": {"contact_id": contact}}, None)
    db.commit()
    out = db.execute(
        select(OutboundEvent.type, OutboundEvent.key, OutboundEvent.payload)
        .where(OutboundEvent.workspace_id == tenant.id)
        .order_by(OutboundEvent.id)
    ).all()
    assert [(t, k) for t, k, _ in out] == [(kind, contact) for kind in RELAYED]
    assert all(p["contact_id"] == contact and p["event_id"] for _, _, p in out)
