"""A record's ChangeLog, newest first, in keyset pages (``GET /{type}/{id}/history``).

A created record has ONE row, field ``*`` (``changelog.CREATED``), whose ``new_value``
holds all its initial values; every later change has one row per changed field. The
ChangeLog index (record, field, at) finds a record's rows; a record has few, so they
are sorted as read rather than kept in a second index on the most-written table.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from crmsync.records.errors import RecordInvalid, RecordNotFound
from crmsync.records.payloads import model_for, singular
from crmsync.store.models import ChangeLog

MAX_LIMIT = 500


def _encode(at: datetime, row_id: int) -> str:
    raw = f"{at.isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(text: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        at, _, row_id = raw.partition("|")
        stamp = datetime.fromisoformat(at)
        if stamp.tzinfo is None:
            raise ValueError("naive")
        return stamp, int(row_id)
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error):
        raise RecordInvalid(
            "cursor: is not one this API returned; pass next_cursor unchanged",
            [{"field": "cursor", "message": "pass next_cursor unchanged"}],
        ) from None


def history(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    record_id: uuid.UUID,
    *,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the record's ChangeLog rows, newest first, and the next page's cursor.

    A deleted record keeps its history (its last row is the deletion); another
    workspace's record answers like a missing one."""
    if not 1 <= limit <= MAX_LIMIT:
        raise RecordInvalid(f"limit must be between 1 and {MAX_LIMIT}")
    record = session.get(model_for(record_type), record_id)
    if record is None or record.workspace_id != workspace_id:
        raise RecordNotFound(f"no {singular(record_type)} with id {record_id}")
    stmt = select(ChangeLog).where(
        ChangeLog.record_id == record_id,
        ChangeLog.workspace_id == workspace_id,
        ChangeLog.record_type == record_type,
    )
    if cursor:
        at, row_id = _decode(cursor)
        stmt = stmt.where(tuple_(ChangeLog.at, ChangeLog.id) < (at, row_id))
    rows = list(
        session.scalars(stmt.order_by(ChangeLog.at.desc(), ChangeLog.id.desc()).limit(limit + 1))
    )
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        following = _encode(rows[-1].at, rows[-1].id)
    return [_out(row) for row in rows], following


def _out(row: ChangeLog) -> dict[str, Any]:
    return {
        "id": row.id,
        "field": row.field,
        "old_value": row.old_value,
        "new_value": row.new_value,
        "source": row.source,
        "at": row.at,
    }
