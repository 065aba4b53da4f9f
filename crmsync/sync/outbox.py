"""Enqueue sync jobs in the transaction of the change that causes them.

One pending job per (integration, object, record, operation): a second change to a record
whose job has not run yet coalesces into it (keeping the higher priority), because the
worker pushes the record's state as it is when the job runs, not as it was enqueued.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crmsync.integrations.config import SyncConfig
from crmsync.store.models import Integration, IntegrationStatus, SyncJob, SyncJobStatus


class Priority(IntEnum):
    """Lower runs first: real-time changes before scheduled syncs before backfills."""

    REALTIME = 0
    SCHEDULED = 1
    BACKFILL = 2


def _pushing_integrations(
    session: Session, workspace_id: uuid.UUID, record_type: str, operation: str
) -> list[uuid.UUID]:
    rows = session.execute(
        select(Integration.id, Integration.config).where(
            Integration.workspace_id == workspace_id,
            Integration.status != IntegrationStatus.DISABLED,
        )
    )
    wanted = []
    for integration_id, raw in rows:
        config = SyncConfig.model_validate(raw or {})
        if not config.pushes(record_type):
            continue
        if operation == "delete" and not config.delete_propagation:
            continue
        wanted.append(integration_id)
    return wanted


def pushing_integrations(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    *,
    operation: str = "upsert",
    source: str = "api",
    only: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """The integrations a change of ``record_type`` from ``source`` goes out to.

    A change that came from integration X (source ``crm:X``) is not pushed back to X.
    ``only`` limits them to one integration (a backfill of that integration).
    """
    integrations = _pushing_integrations(session, workspace_id, record_type, operation)
    if only is not None:
        integrations = [i for i in integrations if i == only]
    if source.startswith("crm:"):
        origin = source.removeprefix("crm:")
        integrations = [i for i in integrations if str(i) != origin]
    return integrations


def enqueue(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    record_ids: Sequence[uuid.UUID],
    *,
    operation: str = "upsert",
    source: str = "api",
    priority: Priority = Priority.REALTIME,
    only: uuid.UUID | None = None,
    integrations: Sequence[uuid.UUID] | None = None,
) -> int:
    """Add a job per pushing integration for each record; returns how many rows it wrote.

    ``integrations`` are those ``pushing_integrations`` gave for the same change, when the
    caller looked them up beforehand (so that its writes follow each other closely).
    """
    if not record_ids:
        return 0
    if integrations is None:
        integrations = pushing_integrations(
            session, workspace_id, record_type, operation=operation, source=source, only=only
        )
    if not integrations:
        return 0
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "workspace_id": workspace_id,
            "integration_id": integration_id,
            "object_type": record_type,
            "record_id": record_id,
            "operation": operation,
            "priority": int(priority),
            "status": SyncJobStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "enqueued_at": now,
            "updated_at": now,
        }
        # One lock order for everyone touching pending jobs (workers rescheduling sort the
        # same way), so concurrent writers wait for each other instead of deadlocking.
        for integration_id in sorted(integrations)
        for record_id in sorted(set(record_ids))
    ]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(SyncJob)
    stmt = stmt.on_conflict_do_update(
        index_elements=["integration_id", "object_type", "record_id", "operation"],
        index_where=text(f"status = '{SyncJobStatus.PENDING}'"),
        set_={"priority": func.min(SyncJob.priority, stmt.excluded.priority)}
        if dialect == "sqlite"
        else {"priority": func.least(SyncJob.priority, stmt.excluded.priority)},
    )
    session.execute(stmt, rows)
    return len(rows)
