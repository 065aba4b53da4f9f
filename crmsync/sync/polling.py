"""Read what changed in a CRM since the last cursor, and apply it.

One run reads every page the connector has ready, applies records and deletions through
``inbound.apply_remote`` and stores the cursor after each page, in the same transaction
as that page's changes: a run stopped halfway resumes after the last page it committed.

A record read before one of crmsync's pushes to it was acknowledged decides nothing in
the properties that push covered (``reconcile``: the read may predate it), yet the
cursor moves past it. So such a record is read again at once by id (``ReadConnector``),
now that the push is known; a connector that cannot read by id, or a record still read
too early after a few tries, keeps the stored cursor before its page and queues another
poll of the stream. A CRM edit is never dropped because a push raced its read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import Connector, ReadConnector, RemoteRecord
from crmsync.mapping.direction import Direction
from crmsync.mapping.model import MappingSet
from crmsync.store.models import Integration, SyncCursor, SyncRun, SyncRunStatus
from crmsync.sync.inbound import apply_remote

MAX_PAGES_PER_RUN = 1000
REREADS = 3  # reads by id of a record read too early, before its page waits for a poll


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
        direction=Direction.INBOUND,
        object_type=object_type,
        started_at=started,
    )
    session.add(run)
    state = _cursor(session, integration, object_type)
    cursor = None if kind == "full" else state.state.get("cursor")
    result = PollResult()
    errors: list[dict[str, str]] = []
    held = False  # a page left a record undecided: the stored cursor stays before it
    while result.pages < MAX_PAGES_PER_RUN:
        # A page may show the CRM as it was before a push acknowledged meanwhile: the
        # read's start time tells apply_remote which of its values are stale.
        read_at = datetime.now(UTC)
        page = connector.changes(object_type, cursor)
        result.pages += 1
        items = [*page.records]
        items += [
            RemoteRecord(d.remote_id, {}, modified_at=d.deleted_at, archived=True)
            for d in page.deletions
        ]
        apply = _Applier(session, integration, object_type, mapping, region, result, errors)
        stale = apply(items, read_at)
        for _ in range(REREADS):
            if not stale or not isinstance(connector, ReadConnector):
                break
            read_at = datetime.now(UTC)
            stale = apply(connector.read(object_type, stale), read_at)
        held = held or bool(stale)
        cursor = page.next_cursor
        now = datetime.now(UTC)
        if not held:
            state.state = {**state.state, "cursor": cursor}
            state.updated_at = now
        session.commit()
        if not page.has_more:
            break
    if held:  # read this stream again soon, from the page left undecided
        session.add(
            SyncRun(
                workspace_id=integration.workspace_id,
                integration_id=integration.id,
                kind="full" if kind == "full" else "incremental",
                direction=Direction.INBOUND,
                object_type=object_type,
                status=SyncRunStatus.QUEUED,
            )
        )
    run.processed, run.failed = result.processed, result.failed
    run.succeeded = result.processed - result.failed
    run.status = SyncRunStatus.SUCCEEDED if not result.failed else SyncRunStatus.PARTIAL
    run.errors = errors[:50]
    run.finished_at = datetime.now(UTC)
    run.duration_ms = int((run.finished_at - started).total_seconds() * 1000)
    session.commit()
    return result


@dataclass
class _Applier:
    """Applies records read in one run, counting outcomes into ``result``."""

    session: Session
    integration: Integration
    object_type: str
    mapping: MappingSet
    region: str
    result: PollResult
    errors: list[dict[str, str]]

    def __call__(self, items: list[RemoteRecord], read_at: datetime) -> list[str]:
        """Apply records read at ``read_at``; the remote ids read too early to decide."""
        now = datetime.now(UTC)
        stale = []
        for remote in items:
            applied = apply_remote(
                self.session,
                self.integration,
                self.object_type,
                remote,
                self.mapping,
                now,
                self.region,
                read_at,
            )
            if applied.stale:
                stale.append(remote.remote_id)
                continue  # counted when it is read again
            result = self.result
            result.processed += 1
            if applied.outcome == "error":
                result.failed += 1
                self.errors.append({"remote_id": remote.remote_id, "message": applied.error or ""})
            elif applied.outcome in ("created", "updated", "deleted"):
                setattr(result, applied.outcome, getattr(result, applied.outcome) + 1)
            elif applied.outcome == "conflict":
                result.conflicts += 1
        return stale
