"""Read what changed in a CRM since the last cursor, and apply it.

One run reads every page the connector has ready, applies records and deletions through
``inbound.apply_remote`` and stores the cursor after each page, in the same transaction
as that page's changes: a run stopped halfway resumes after the last page it committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import Connector, RemoteRecord
from crmsync.mapping.model import MappingSet
from crmsync.store.models import Integration, SyncCursor, SyncRun
from crmsync.sync.inbound import apply_remote

MAX_PAGES_PER_RUN = 1000


@dataclass
class PollResult:
    processed: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    conflicts: int = 0
    failed: int = 0
    pages: int = 0


def _cursor(session: Session, integration: Integration, object_type: str) -> SyncCursor:
    row = session.scalar(
        select(SyncCursor).where(
            SyncCursor.integration_id == integration.id, SyncCursor.object_type == object_type
        )
    )
    if row is None:
        row = SyncCursor(integration_id=integration.id, object_type=object_type, state={})
        session.add(row)
    return row


def poll(
    session: Session,
    integration: Integration,
    object_type: str,
    connector: Connector,
    mapping: MappingSet,
    *,
    kind: str = "incremental",
    region: str = "US",
) -> PollResult:
    """Pull and apply changes of one object type; commits page by page; writes a SyncRun."""
    started = datetime.now(UTC)
    run = SyncRun(
        workspace_id=integration.workspace_id,
        integration_id=integration.id,
        kind=kind,
        direction="inbound",
        object_type=object_type,
        started_at=started,
    )
    session.add(run)
    state = _cursor(session, integration, object_type)
    cursor = None if kind == "full" else state.state.get("cursor")
    result = PollResult()
    errors: list[dict[str, str]] = []
    while result.pages < MAX_PAGES_PER_RUN:
        # A page may show the CRM as it was before a push acknowledged meanwhile: the
        # read's start time tells apply_remote which of its values are stale.
        read_at = datetime.now(UTC)
        page = connector.changes(object_type, cursor)
        result.pages += 1
        now = datetime.now(UTC)
        items = [*page.records]
        items += [
            RemoteRecord(d.remote_id, {}, modified_at=d.deleted_at, archived=True)
            for d in page.deletions
        ]
        for remote in items:
            applied = apply_remote(
                session, integration, object_type, remote, mapping, now, region, read_at
            )
            result.processed += 1
            if applied.outcome == "error":
                result.failed += 1
                errors.append({"remote_id": remote.remote_id, "message": applied.error or ""})
            elif applied.outcome in ("created", "updated", "deleted"):
                setattr(result, applied.outcome, getattr(result, applied.outcome) + 1)
            elif applied.outcome == "conflict":
                result.conflicts += 1
        cursor = page.next_cursor
        state.state = {**state.state, "cursor": cursor}
        state.updated_at = now
        session.commit()
        if not page.has_more:
            break
    run.processed, run.failed = result.processed, result.failed
    run.succeeded = result.processed - result.failed
    run.status = "succeeded" if not result.failed else "partial"
    run.errors = errors[:50]
    run.finished_at = datetime.now(UTC)
    run.duration_ms = int((run.finished_at - started).total_seconds() * 1000)
    session.commit()
    return result
