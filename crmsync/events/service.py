"""Store app events, honouring idempotency keys, and hand new ones to the event router."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmsync.events.router import Subscriber, router
from crmsync.fingerprint import fingerprint
from crmsync.store.models import Event

log = structlog.get_logger("crmsync.events")


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different body."""


def record_event(
    session: Session,
    workspace_id: uuid.UUID,
    body: dict[str, Any],
    idempotency_key: str | None,
    request_hash: str | None = None,
) -> tuple[Event, bool]:
    """Store an event; returns it and whether it is a replay of an earlier identical request.

    ``body`` is the validated request (``type``, ``data``, optional ``occurred_at``).
    Commits only through a savepoint, so a concurrent twin with the same key is detected.
    ``request_hash``: the fingerprint when the caller made it (bus messages hash their own
    wire body).
    """
    digest = request_hash or fingerprint(body)
    if idempotency_key:
        earlier = _find(session, workspace_id, idempotency_key)
        if earlier is not None:
            return _replay(earlier, digest), True
    event = Event(
        workspace_id=workspace_id,
        type=body["type"],
        data=body.get("data") or {},
        occurred_at=_parse_time(body.get("occurred_at")),
        received_at=datetime.now(UTC),
        idempotency_key=idempotency_key,
        request_hash=digest,
    )
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        # Another request with the same key won the race; answer as it did.
        assert idempotency_key is not None
        earlier = _find(session, workspace_id, idempotency_key)
        if earlier is None:
            raise
        return _replay(earlier, digest), True
    _dispatch(session, event)
    return event, False


StoredEvent = tuple[uuid.UUID, uuid.UUID, str, Mapping[str, Any]]  # id, workspace, type, data
Plan = list[tuple[uuid.UUID, list[Subscriber]]]  # event id, the subscribers that want it


def plan_dispatch(session: Session, events: Sequence[StoredEvent]) -> Plan:
    """The events some subscriber wants (``EventRouter.wanted``), in the order given, with
    those subscribers. Asked before the events are written (the bus writes a batch at
    once), so an event nobody wants is written already processed."""
    plan: Plan = []
    for event_id, workspace_id, event_type, data in events:
        subscribers = router.wanted(session, workspace_id, event_type, data)
        if subscribers:
            plan.append((event_id, subscribers))
    return plan


def dispatch_planned(session: Session, plan: Plan) -> None:
    """Hand the planned events (stored, ``processed_at`` empty) to their subscribers in
    order, with what ``record_event`` guarantees for one: a failing subscriber leaves its
    event stored and unprocessed.

    The events are loaded and handed over in one savepoint and marked processed with one
    UPDATE; only when a subscriber fails is the batch done again one event at a time.
    """
    if not plan:
        return
    ids = [i for i, _ in plan]
    found = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(ids)))}
    try:
        with session.begin_nested():
            for event_id, subscribers in plan:
                for subscriber in subscribers:
                    subscriber(session, found[event_id])
            session.execute(
                update(Event).where(Event.id.in_(ids)).values(processed_at=datetime.now(UTC)),
                execution_options={"synchronize_session": False},
            )
    except Exception:
        log.warning("an event subscriber failed in a batch; dispatching one by one")
        for event_id in ids:
            _dispatch(session, found[event_id])


def _dispatch(session: Session, event: Event) -> None:
    """Run the subscribers in a savepoint: one that fails leaves the event stored and
    unprocessed (``processed_at`` empty) instead of refusing the app's request."""
    try:
        with session.begin_nested():
            event.processed_at = datetime.now(UTC)
            # A write first: SQLite then holds its write lock before the subscribers read,
            # instead of upgrading a read snapshot that a concurrent commit made stale
            # (refused at once with "database is locked", whatever the busy timeout).
            session.flush()
            router.dispatch(session, event)
    except Exception:
        log.exception("event subscriber failed", event_id=str(event.id), type=event.type)


def _find(session: Session, workspace_id: uuid.UUID, key: str) -> Event | None:
    return session.scalar(
        select(Event).where(Event.workspace_id == workspace_id, Event.idempotency_key == key)
    )


def _replay(earlier: Event, digest: str) -> Event:
    if earlier.request_hash != digest:
        raise IdempotencyConflict(
            "this Idempotency-Key was used with a different request body; use a new key"
        )
    return earlier


def _parse_time(value: Any) -> datetime:
    if value is None:
        return datetime.now(UTC)
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
