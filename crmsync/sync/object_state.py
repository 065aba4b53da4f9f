"""Health, back-off and schedule per (integration, object type).

One object type failing never holds the others: a whole push of a type that fails (the
CRM has no such object, a field it refuses, a 5xx that keeps coming) backs off *that*
type alone (``backoff_until``) and the integration stays connected (shown ``degraded``).
A type with a ``frequency`` waits for its slot (``next_push_at``) once its due jobs are
pushed, so its changes go out together. The claim query skips held types
(``HELD``), so neither state costs a claim anything while it lasts.

Writers run in the worker's settle transaction, before its job rows (see
``sync.settle``): no enqueue ever waits for a state row, so the lock order holds.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crmsync.connectors.errors import Action, AuthError, ConnectorError
from crmsync.store.base import new_id
from crmsync.store.models import ObjectSyncStatus, SyncJob, SyncJobStatus, SyncObjectState
from crmsync.sync.schedule import next_run

__all__ = ["BACKOFF_BASE", "BACKOFF_CAP", "HELD", "failed", "scheduled", "succeeded"]

BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=10)
# Transient failures are first the jobs' own backoff; the type backs off once they repeat.
TRANSIENT_STREAK = 3

_S = SyncObjectState
HELD = exists().where(
    _S.integration_id == SyncJob.integration_id,
    _S.object_type == SyncJob.object_type,
    or_(
        and_(_S.backoff_until.is_not(None), _S.backoff_until > bindparam("now")),
        and_(_S.next_push_at.is_not(None), _S.next_push_at > bindparam("now")),
    ),
)
"""A job whose type is held right now (``now``: the claim's own clock)."""


def _ensure(
    session: Session, workspace_id: uuid.UUID, integration_id: uuid.UUID, object_type: str
) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = {
        "id": new_id(),
        "workspace_id": workspace_id,
        "integration_id": integration_id,
        "object_type": object_type,
        "status": ObjectSyncStatus.OK,
        "consecutive_failures": 0,
    }
    session.execute(
        insert(_S)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["integration_id", "object_type"])
    )


def _where(integration_id: uuid.UUID, object_type: str) -> Any:
    return and_(_S.integration_id == integration_id, _S.object_type == object_type)


def succeeded(
    session: Session, workspace_id: uuid.UUID, integration_id: uuid.UUID, object_type: str
) -> None:
    """A push or poll of the type went through: it is healthy again."""
    failing = session.scalar(
        select(_S.consecutive_failures).where(_where(integration_id, object_type))
    )
    if not failing:  # nothing to clear (and no row to write for a healthy type)
        return
    session.execute(
        update(_S)
        .where(_where(integration_id, object_type))
        .values(status=ObjectSyncStatus.OK, consecutive_failures=0, backoff_until=None)
    )


def failed(
    session: Session,
    workspace_id: uuid.UUID,
    integration_id: uuid.UUID,
    object_type: str,
    error: ConnectorError,
    now: datetime,
) -> datetime | None:
    """A whole push or poll of the type failed; returns until when the type is held.

    A spent rate budget (the limiter waits) and refused credentials (the whole
    integration is paused) say nothing of the type: they leave it as it is."""
    if error.action is Action.WAIT or isinstance(error, AuthError):
        return None
    _ensure(session, workspace_id, integration_id, object_type)
    streak = 1 + (
        session.scalar(select(_S.consecutive_failures).where(_where(integration_id, object_type)))
        or 0
    )
    until = backoff_until(error, streak, now)
    session.execute(
        update(_S)
        .where(_where(integration_id, object_type))
        .values(
            status=ObjectSyncStatus.FAILING,
            consecutive_failures=streak,
            last_error=error.message,
            last_error_class=error.kind,
            last_error_at=now,
            backoff_until=until,
        )
    )
    return until


def backoff_until(error: ConnectorError, streak: int, now: datetime) -> datetime | None:
    """How long the type waits after its ``streak``-th failure in a row (None: not held)."""
    if error.action in (Action.SKIP_RECORD, Action.RELINK):
        return None
    if error.action is Action.RETRY:
        if streak < TRANSIENT_STREAK:
            return None
        streak -= TRANSIENT_STREAK - 1
    return now + min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (streak - 1))


def scheduled(
    session: Session,
    workspace_id: uuid.UUID,
    integration_id: uuid.UUID,
    object_type: str,
    frequency: str,
    claimed: list[int],
    now: datetime,
) -> datetime | None:
    """After a push of a scheduled type: if none of its jobs is still due, hold it until
    its next slot; returns the slot (None while due jobs remain: they go first)."""
    more = session.scalar(
        select(SyncJob.id)
        .where(
            SyncJob.integration_id == integration_id,
            SyncJob.object_type == object_type,
            SyncJob.status == SyncJobStatus.PENDING,
            SyncJob.next_attempt_at <= now,
            SyncJob.id.not_in(claimed),
        )
        .limit(1)
    )
    if more is not None:
        return None
    slot = next_run(frequency, now, now)
    _ensure(session, workspace_id, integration_id, object_type)
    session.execute(update(_S).where(_where(integration_id, object_type)).values(next_push_at=slot))
    return slot
