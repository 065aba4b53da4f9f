"""Rows the browser tests need that no page makes: integrations, journeys, conflicts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crmsync.records.service import create_record
from crmsync.store.engine import session_scope
from crmsync.store.models import ApiQuota, Conflict, Integration, Journey, SyncJob, SyncRun


def contact(sessions: sessionmaker[Session], workspace_id: uuid.UUID, **fields: Any) -> uuid.UUID:
    with session_scope(sessions) as session:
        return create_record(session, workspace_id, "contacts", fields, "api").id


def integration(sessions: sessionmaker[Session], workspace_id: uuid.UUID) -> uuid.UUID:
    """A Total Expert integration row (never called: the tests only read its journeys)."""
    with session_scope(sessions) as session:
        row = Integration(
            workspace_id=workspace_id,
            provider="totalexpert",
            name="Total Expert",
            status="connected",
            config={"objects": {"contacts": "both"}},
        )
        session.add(row)
        session.flush()
        return row.id


def journey(
    sessions: sessionmaker[Session], workspace_id: uuid.UUID, integration_id: uuid.UUID, name: str
) -> uuid.UUID:
    with session_scope(sessions) as session:
        row = Journey(
            workspace_id=workspace_id,
            integration_id=integration_id,
            remote_id=uuid.uuid4().hex[:10],
            name=name,
            category="purchase",
            trigger_type="manual",
            active=True,
            steps=[],
        )
        session.add(row)
        session.flush()
        return row.id


def conflict(
    sessions: sessionmaker[Session],
    workspace_id: uuid.UUID,
    integration_id: uuid.UUID,
    contact_id: uuid.UUID,
    field: str,
    local: Any,
    remote: Any,
) -> uuid.UUID:
    """An open conflict as inbound sync opens one under the ``manual`` policy."""
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        row = Conflict(
            workspace_id=workspace_id,
            integration_id=integration_id,
            record_type="contacts",
            record_id=contact_id,
            field=field,
            local_value=local,
            local_at=now - timedelta(minutes=5),
            remote_value=remote,
            remote_at=now - timedelta(minutes=2),
            status="open",
        )
        session.add(row)
        session.flush()
        return row.id


def sync_figures(
    sessions: sessionmaker[Session], workspace_id: uuid.UUID, integration_id: uuid.UUID
) -> None:
    """What the sync health page draws: a run with failures, a job waiting (the lag) and
    the API quota the CRM reported."""
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        session.add(
            SyncRun(
                workspace_id=workspace_id, integration_id=integration_id, kind="incremental",
                direction="outbound", object_type="contacts", status="partial", processed=40,
                succeeded=37, failed=3, started_at=now - timedelta(hours=1), finished_at=now,
            )
        )  # fmt: skip
        session.add(
            SyncJob(
                workspace_id=workspace_id, integration_id=integration_id, object_type="contacts",
                record_id=uuid.uuid4(), operation="upsert",
                enqueued_at=now - timedelta(minutes=3),
            )
        )  # fmt: skip
        session.add(
            ApiQuota(
                integration_id=integration_id, name="daily", used=920, limit=1000, observed_at=now
            )
        )
