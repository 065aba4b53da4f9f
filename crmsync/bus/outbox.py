"""Read and mark the outbound-event outbox for the bus publisher (the caller commits)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crmsync.store.models import OutboundEvent


def unpublished(session: Session, limit: int) -> list[OutboundEvent]:
    """The oldest events not yet on the bus, in id (= per-record change) order."""
    return list(
        session.scalars(
            select(OutboundEvent)
            .where(OutboundEvent.published_at.is_(None))
            .order_by(OutboundEvent.id)
            .limit(limit)
        )
    )


def mark_published(session: Session, ids: list[int]) -> None:
    if ids:
        session.execute(
            update(OutboundEvent)
            .where(OutboundEvent.id.in_(ids))
            .values(published_at=datetime.now(UTC))
        )


def message(event: OutboundEvent) -> bytes:
    """The wire form: the shape crmsync itself consumes (an app event with an id)."""
    body: dict[str, Any] = {
        "id": f"crmsync-{event.id}",
        "workspace_id": str(event.workspace_id),
        "key": event.key,
        "type": event.type,
        "data": event.payload,
        "occurred_at": event.created_at.isoformat(),
    }
    return orjson.dumps(body)
