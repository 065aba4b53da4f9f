"""Receive CRM webhooks: verify, drop replays, store, and hand them to the worker.

A delivery is answered as soon as its events are stored. The worker treats stored events
as a signal to poll the changed object types at once (``drain_events``): many CRMs send
only ids, and the poll reads each changed record whole, with its cursor, exactly as a
scheduled poll would, so a webhook and a poll never disagree.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crmsync.connectors.base import Connector
from crmsync.store.models import Integration, WebhookEvent


class WebhookRejected(Exception):
    """The delivery failed verification; nothing was stored."""


@dataclass(frozen=True)
class Received:
    stored: int
    replayed: int


def _event_id(change_id: str | None, body: bytes, index: int) -> str:
    # Deliveries without event ids are identified by their content and position.
    return change_id or "sha256:" + hashlib.sha256(body + b"#" + str(index).encode()).hexdigest()


def receive(
    session: Session,
    integration: Integration,
    connector: Connector,
    headers: Mapping[str, str],
    body: bytes,
) -> Received:
    """Verify and store one delivery (the caller commits)."""
    if not connector.verify_webhook(headers, body):
        raise WebhookRejected("signature, credentials or timestamp did not verify")
    changes = connector.parse_webhook(body)
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "workspace_id": integration.workspace_id,
            "integration_id": integration.id,
            "provider": integration.provider,
            "event_id": _event_id(change.event_id, body, i),
            "received_at": now,
            "verified": True,
            "payload": {
                "object_type": change.object_type,
                "remote_id": change.remote_id,
                "kind": change.kind.value,
                "properties": orjson.loads(orjson.dumps(dict(change.properties), default=str)),
                "merged_into": change.merged_into,
            },
        }
        for i, change in enumerate(changes)
    ]
    if not rows:
        return Received(0, 0)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(WebhookEvent)
        .on_conflict_do_nothing(index_elements=["integration_id", "event_id"])
        .returning(WebhookEvent.id)
    )
    stored = len(list(session.scalars(stmt, rows)))
    return Received(stored, len(rows) - stored)


def claim_events(
    session: Session, limit: int = 500
) -> dict[tuple[uuid.UUID, str], list[uuid.UUID]]:
    """Take unprocessed events, grouped by (integration, object type). Commits."""
    candidates = list(
        session.execute(
            select(WebhookEvent.id, WebhookEvent.integration_id, WebhookEvent.payload)
            .where(WebhookEvent.processed_at.is_(None))
            .order_by(WebhookEvent.received_at)
            .limit(limit)
        )
    )
    if not candidates:
        session.rollback()
        return {}
    taken = set(
        session.scalars(
            update(WebhookEvent)
            .where(
                WebhookEvent.id.in_([c.id for c in candidates]),
                WebhookEvent.processed_at.is_(None),
            )
            .values(processed_at=datetime.now(UTC), outcome="polling")
            .returning(WebhookEvent.id)
        )
    )
    session.commit()
    groups: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = {}
    for event_id, integration_id, payload in candidates:
        if event_id in taken:
            groups.setdefault((integration_id, str(payload.get("object_type"))), []).append(
                event_id
            )
    return groups


def settle_events(session: Session, event_ids: list[uuid.UUID], outcome: str) -> None:
    session.execute(
        update(WebhookEvent).where(WebhookEvent.id.in_(event_ids)).values(outcome=outcome[:500])
    )
    session.commit()
