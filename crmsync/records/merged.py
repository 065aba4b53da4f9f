"""Where merged-away records went: every later reference to one resolves to its survivor.

Rows always name the *final* survivor (a merge re-points the rows of the records it
merges away), so a chain of merges resolves with a single look-up.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crmsync.store.models import MergedRecord


def survivor_of(
    session: Session, workspace_id: uuid.UUID, record_type: str, record_id: uuid.UUID
) -> uuid.UUID | None:
    """The record ``record_id`` was merged into, or None if it was never merged away."""
    return session.scalar(
        select(MergedRecord.survivor_id).where(
            MergedRecord.workspace_id == workspace_id,
            MergedRecord.record_type == record_type,
            MergedRecord.merged_id == record_id,
        )
    )


def survivors_of(
    session: Session, workspace_id: uuid.UUID, record_type: str, record_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Merged-away id -> survivor id, for those of ``record_ids`` that were merged away."""
    ids = list(set(record_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(MergedRecord.merged_id, MergedRecord.survivor_id).where(
            MergedRecord.workspace_id == workspace_id,
            MergedRecord.record_type == record_type,
            MergedRecord.merged_id.in_(ids),
        )
    )
    return {merged: survivor for merged, survivor in rows}


def remember(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    survivor_id: uuid.UUID,
    merged_ids: list[uuid.UUID],
    strategy: str,
) -> None:
    """Record the merge, and re-point earlier merges into the merged-away records."""
    session.execute(
        update(MergedRecord)
        .where(
            MergedRecord.workspace_id == workspace_id,
            MergedRecord.record_type == record_type,
            MergedRecord.survivor_id.in_(merged_ids),
        )
        .values(survivor_id=survivor_id)
    )
    session.add_all(
        MergedRecord(
            workspace_id=workspace_id,
            record_type=record_type,
            merged_id=merged_id,
            survivor_id=survivor_id,
            strategy=strategy,
        )
        for merged_id in merged_ids
    )
