"""Fan out new outbound events: one delivery per enabled endpoint that takes the type.

Each endpoint keeps a cursor over ``outbound_events``. A transaction that took a smaller
id can commit after a larger one was read, so the cursor only moves past events older
than ``SETTLE``; events newer than that are read again on the next pass, and the unique
(endpoint, event) index makes the second insert a no-op. Nothing is skipped, nothing is
fanned out twice. Never commits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crmsync.store.models import DeliveryStatus, OutboundEvent, WebhookDelivery, WebhookEndpoint

SETTLE: Final = timedelta(seconds=5)
BATCH: Final = 5_000


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> None:
    # Core, not ORM, statements: a backlog fans out thousands of rows at a time.
    table: Table = WebhookDelivery.__table__  # type: ignore[assignment]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = pg_insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite_insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - crmsync runs on SQLite and PostgreSQL
        stmt = insert(table)
    session.connection().execute(stmt, rows)


def fan_out(session: Session, now: datetime | None = None, batch: int = BATCH) -> int:
    """Make the deliveries of events not yet fanned out; returns how many were read."""
    now = now or datetime.now(UTC)
    endpoints = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.id)
        .with_for_update(skip_locked=True)
    ).all()
    read = 0
    for endpoint in endpoints:
        events = session.execute(
            select(
                OutboundEvent.id, OutboundEvent.type, OutboundEvent.key, OutboundEvent.created_at
            )
            .where(
                OutboundEvent.workspace_id == endpoint.workspace_id,
                OutboundEvent.id > endpoint.cursor,
            )
            .order_by(OutboundEvent.id)
            .limit(batch)
        ).all()
        if not events:
            continue
        read += len(events)
        wanted = set(endpoint.event_types or ())
        rows = [
            {
                "workspace_id": endpoint.workspace_id,
                "endpoint_id": endpoint.id,
                "event_id": event_id,
                "event_type": type_,
                "key": key,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event_id, type_, key, _ in events
            if not wanted or type_ in wanted
        ]
        if rows:
            _insert_new(session, rows)
        settled = [event_id for event_id, _, _, at in events if at <= now - SETTLE]
        if settled:
            # Only a run of settled events from the start moves the cursor.
            last = endpoint.cursor
            for event_id, *_rest, at in events:
                if at > now - SETTLE:
                    break
                last = event_id
            endpoint.cursor = last
    return read
