"""Undo an import: delete the records it created, restore the fields it changed.

What the import did is read from its outcomes (``ImportBatch``: which rows created and
which updated which record) and from the ChangeLog rows it wrote (source
``import:<job id>``: each changed field's value before the import). Nothing is undone
over a later change: a created record that something else changed since is kept, and a
field changed since keeps its current value; the answer lists each with the reason.

The deletes and restores go through the records service with source
``undo:import:<job id>``, so they write their own ChangeLog rows and outbox jobs: sync
follows (a delete reaches a CRM only where the integration propagates deletes).
Runs in the caller's transaction; does not commit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.imports.errors import JobStateError
from crmsync.imports.jobs import ACTIVE
from crmsync.records import service
from crmsync.records.errors import RecordError
from crmsync.records.payloads import model_for
from crmsync.store.models import ChangeLog
from crmsync.store.models.imports import ImportBatch, ImportJob, ImportStatus

# Fields the import's ChangeLog may hold that are not restored by a patch.
_CREATE_ROW: Final = "*"
_DELETED_AT: Final = "deleted_at"
_CHUNK: Final = 500


@dataclass
class UndoResult:
    deleted: int = 0
    restored_records: int = 0
    restored_fields: int = 0
    not_undone: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "deleted": self.deleted,
            "restored_records": self.restored_records,
            "restored_fields": self.restored_fields,
            "not_undone": self.not_undone,
        }


def _written(session: Session, job: ImportJob) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """(created, updated) record ids, each once, in row order; created wins."""
    created: dict[uuid.UUID, None] = {}
    updated: dict[uuid.UUID, None] = {}
    stmt = select(ImportBatch.rows).where(ImportBatch.job_id == job.id)
    for rows in session.scalars(stmt.order_by(ImportBatch.first_row)):
        for _number, _line, status, record_id, _warnings in rows:
            if record_id is None:
                continue
            (created if status == "created" else updated)[uuid.UUID(record_id)] = None
    return list(created), [r for r in updated if r not in created]


def _changes(session: Session, record_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ChangeLog]]:
    """Every ChangeLog row of these records, oldest first."""
    out: dict[uuid.UUID, list[ChangeLog]] = defaultdict(list)
    for start in range(0, len(record_ids), _CHUNK):
        chunk = record_ids[start : start + _CHUNK]
        stmt = select(ChangeLog).where(ChangeLog.record_id.in_(chunk)).order_by(ChangeLog.id)
        for row in session.scalars(stmt):
            out[row.record_id].append(row)
    return out


def _later_change(rows: list[ChangeLog], source: str, field_name: str | None) -> ChangeLog | None:
    """The first change after the import's last one (of ``field_name``, or of any field)."""
    mine = [r.id for r in rows if r.source == source]
    if not mine:
        return None
    last = max(mine)
    for row in rows:
        concerned = field_name is None or row.field in (field_name, _CREATE_ROW)
        if row.id > last and row.source != source and concerned:
            return row
    return None


def undo_import(session: Session, job: ImportJob) -> UndoResult:
    """Undo what ``job`` wrote, except what changed since; raises JobStateError if it may not."""
    if job.status in ACTIVE:
        raise JobStateError(f"a {job.status} job cannot be undone; cancel it first")
    if job.status == ImportStatus.PENDING:
        raise JobStateError("the import has not run: there is nothing to undo")
    if job.undone_at is not None:
        raise JobStateError("the import was undone already")
    if job.options.get("dry_run"):
        raise JobStateError("a dry run wrote nothing to undo")
    result = UndoResult()
    source = f"import:{job.id}"
    undo_source = f"undo:{source}"
    record_type = job.object_type
    model = model_for(record_type)
    created, updated = _written(session, job)
    history = _changes(session, created + updated)

    def skip(record_id: uuid.UUID, field_name: str | None, reason: str) -> None:
        result.not_undone.append(
            {"record_id": str(record_id), "field": field_name, "reason": reason}
        )

    for record_id in created:
        record = session.get(model, record_id)
        if record is None or record.deleted_at is not None:
            skip(record_id, None, "the record was deleted since the import")
            continue
        later = _later_change(history[record_id], source, None)
        if later is not None:
            skip(record_id, None, f"the record was changed since the import ({later.source})")
            continue
        service.delete_record(session, job.workspace_id, record_type, record_id, undo_source)
        result.deleted += 1

    for record_id in updated:
        rows = history[record_id]
        record = session.get(model, record_id)
        if record is None or record.deleted_at is not None:
            skip(record_id, None, "the record was deleted since the import")
            continue
        before: dict[str, Any] = {}
        for row in rows:  # oldest first: the first import change holds the value before it
            if row.source == source and row.field not in before and row.field != _CREATE_ROW:
                before[row.field] = row.old_value
        patch: dict[str, Any] = {}
        for field_name, old in before.items():
            later = _later_change(rows, source, field_name)
            if later is not None:
                skip(record_id, field_name, f"changed since the import ({later.source})")
            elif field_name != _DELETED_AT:
                patch[field_name] = old
        try:
            if patch:
                service.update_record(
                    session, job.workspace_id, record_type, record_id, patch, undo_source
                )
            if _DELETED_AT in before and _DELETED_AT not in {
                n["field"] for n in result.not_undone if n["record_id"] == str(record_id)
            }:  # the import brought a deleted record back: it goes again
                service.delete_record(
                    session, job.workspace_id, record_type, record_id, undo_source
                )
        except RecordError as exc:
            skip(record_id, None, exc.message)
            continue
        if patch:
            result.restored_records += 1
            result.restored_fields += len(patch)
    job.undone_at = datetime.now(UTC)
    session.flush()
    return result
