"""Create, read, change and delete canonical records; every change writes its ChangeLog.

Functions take the caller's session and never commit: the caller's transaction holds the
record, its ChangeLog rows and its outbox jobs (``crmsync.sync.outbox``) together.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, or_, select, tuple_
from sqlalchemy.orm import Session

from crmsync.fields.table import TABLE
from crmsync.records import changelog, merged
from crmsync.records import filters as record_filters
from crmsync.records.errors import RecordConflict, RecordInvalid, RecordNotFound
from crmsync.records.pagination import Cursor
from crmsync.records.payloads import (
    check_references,
    complete_for_create,
    derive_keys,
    model_for,
    parse_fields,
    singular,
)
from crmsync.records.upsert import (
    MAX_BATCH,
    ItemResult,
    insert,
    new_row,
    region_of,
    upsert_records,
)
from crmsync.store.models import RecordBase
from crmsync.sync import outbox

__all__ = ["MAX_BATCH", "ItemResult", "upsert_records"]
MAX_LIMIT = 500
# the fields a list's ``q`` looks in, from the field table
SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    str(t): tuple(f.name for f in spec.fields if f.searchable) for t, spec in TABLE.items()
}


def list_records(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    *,
    limit: int = 100,
    cursor: str | None = None,
    updated_since: datetime | None = None,
    q: str | None = None,
    include_deleted: bool = False,
    filters: Mapping[str, Any] | None = None,
) -> tuple[list[RecordBase], str | None]:
    """A page ordered by (updated_at, id), and the cursor of the next page if there is one.
    ``filters`` are checked ones (``records.filters.parse``)."""
    stmt = list_query(
        workspace_id,
        record_type,
        limit=limit,
        cursor=cursor,
        updated_since=updated_since,
        q=q,
        include_deleted=include_deleted,
        filters=filters,
    )
    rows = list(session.scalars(stmt))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, Cursor(rows[-1].updated_at, rows[-1].id).encode()


def list_query(
    workspace_id: uuid.UUID,
    record_type: str,
    *,
    limit: int = 100,
    cursor: str | None = None,
    updated_since: datetime | None = None,
    q: str | None = None,
    include_deleted: bool = False,
    filters: Mapping[str, Any] | None = None,
) -> Select[Any]:
    """The statement of ``list_records``: one row more than ``limit``, to tell if there is
    a next page."""
    model = model_for(record_type)
    if not 1 <= limit <= MAX_LIMIT:
        raise RecordInvalid(f"limit must be between 1 and {MAX_LIMIT}")
    stmt = select(model).where(model.workspace_id == workspace_id)
    if not include_deleted:
        stmt = stmt.where(model.deleted_at.is_(None))
    if updated_since is not None:
        stmt = stmt.where(model.updated_at >= updated_since)
    if filters:
        stmt = record_filters.apply(stmt, model, filters)
    if cursor:
        after = Cursor.decode(cursor)
        stmt = stmt.where(tuple_(model.updated_at, model.id) > (after.updated_at, after.id))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                *(getattr(model, f).ilike(pattern, escape="\\") for f in SEARCH_FIELDS[record_type])
            )
        )
    return stmt.order_by(model.updated_at, model.id).limit(limit + 1)


def get_record(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    record_id: uuid.UUID,
    *,
    follow_merges: bool = True,
) -> RecordBase:
    """The live record; a merged-away id gives its survivor (``follow_merges``)."""
    model = model_for(record_type)
    record = session.get(model, record_id)
    if follow_merges and record is not None and record.deleted_at is not None:
        survivor = merged.survivor_of(session, workspace_id, record_type, record_id)
        record = session.get(model, survivor) if survivor is not None else record
    # Another workspace's record answers exactly like a missing one.
    if record is None or record.workspace_id != workspace_id or record.deleted_at is not None:
        raise RecordNotFound(f"no {singular(record_type)} with id {record_id}")
    return record


def create_record(
    session: Session, workspace_id: uuid.UUID, record_type: str, payload: Any, source: str
) -> RecordBase:
    fields = parse_fields(record_type, payload)
    bad = check_references(session, workspace_id, record_type, [fields])
    if bad:
        raise RecordInvalid(bad[0])
    if fields.get("external_ref"):
        _refuse_taken_ref(session, workspace_id, record_type, fields["external_ref"])
    row = complete_for_create(record_type, fields)
    region = region_of(session, workspace_id)
    insert(
        session,
        workspace_id,
        record_type,
        [new_row(workspace_id, record_type, row, region)],
        source,
    )
    return get_record(session, workspace_id, record_type, row["id"])


def update_record(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    record_id: uuid.UUID,
    payload: Any,
    source: str,
    *,
    written_at: datetime | None = None,
) -> RecordBase:
    """Patch a record. ``written_at`` is when the change was made at its origin (a CRM's
    own time), for its ChangeLog rows; it defaults to now."""
    record = get_record(session, workspace_id, record_type, record_id)
    fields = parse_fields(record_type, payload)
    bad = check_references(session, workspace_id, record_type, [fields])
    if bad:
        raise RecordInvalid(bad[0])
    if fields.get("external_ref") not in (None, record.external_ref):
        _refuse_taken_ref(session, workspace_id, record_type, fields["external_ref"])
    now = datetime.now(UTC)
    region = region_of(session, workspace_id)
    if _apply(session, record, fields, source, now, region, logged_at=written_at):
        outbox.enqueue(session, workspace_id, record_type, [record.id], source=source)
    session.flush()
    return record


def delete_record(
    session: Session, workspace_id: uuid.UUID, record_type: str, record_id: uuid.UUID, source: str
) -> None:
    # A merged-away id does not delete its survivor: it answers as the deleted record it is.
    record = get_record(session, workspace_id, record_type, record_id, follow_merges=False)
    now = datetime.now(UTC)
    changes = {"deleted_at": (None, now)}
    record.deleted_at = now
    record.updated_at = now
    record.version += 1
    changelog.write(
        session,
        changelog.changelog_rows(workspace_id, record_type, record.id, changes, source, now),
    )
    outbox.enqueue(
        session, workspace_id, record_type, [record.id], operation="delete", source=source
    )


def _apply(
    session: Session,
    record: RecordBase,
    fields: dict[str, Any],
    source: str,
    now: datetime,
    region: str,
    *,
    write: bool = True,
    logged_at: datetime | None = None,
) -> list[changelog.Row]:
    """Patch a loaded record; returns its ChangeLog rows (written unless ``write`` is False)."""
    if record.deleted_at is not None:  # an upsert by external_ref brings a record back
        fields = {**fields, "deleted_at": None}
    before = {k: getattr(record, k) for k in fields}
    changes = changelog.diff(before, fields)
    if not changes:
        return []
    for key, (_old, new) in changes.items():
        setattr(record, key, new)
    for key, value in derive_keys(record.record_type, fields, region).items():
        setattr(record, key, value)
    record.updated_at = now
    record.version += 1
    rows = changelog.changelog_rows(
        record.workspace_id, record.record_type, record.id, changes, source, logged_at or now
    )
    if write:
        changelog.write(session, rows)
    return rows


def _refuse_taken_ref(
    session: Session, workspace_id: uuid.UUID, record_type: str, ref: str
) -> None:
    model = model_for(record_type)
    taken = session.scalar(
        select(model.id).where(model.workspace_id == workspace_id, model.external_ref == ref)
    )
    if taken is not None:
        raise RecordConflict(f"external_ref {ref!r} is already in use")
