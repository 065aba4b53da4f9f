"""Write ChangeLog rows: one per changed field, in the caller's transaction.

Rows are built as tuples in ``COLUMNS`` order and written by one driver executemany
(``crmsync.records.bulk``): a batch of 1,000 new contacts writes ~18,000.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from crmsync import outbound
from crmsync.records.bulk import Write, insert_tuples, insert_write
from crmsync.store.models import ChangeLog

SKIP_FIELDS = frozenset({"updated_at", "created_at", "version", "email_key", "phone_key", "id"})
# What a new record's ChangeLog leaves out besides SKIP_FIELDS: the workspace is the row's own.
_NOT_LOGGED_ON_CREATE = SKIP_FIELDS | {"workspace_id"}
COLUMNS = (
    "workspace_id",
    "record_type",
    "record_id",
    "field",
    "old_value",
    "new_value",
    "source",
    "at",
)
_TABLE: Table = ChangeLog.__table__  # type: ignore[assignment]


def json_value(value: Any) -> Any:
    """A JSON-storable form of a column value (ChangeLog keeps old/new as JSON)."""
    if value is None or type(value) is str:  # the common case, first
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields whose value changes from ``before`` to ``after`` (keys of ``after`` only)."""
    return {
        k: (before.get(k), v)
        for k, v in after.items()
        if k not in SKIP_FIELDS and before.get(k) != v
    }


Row = tuple[Any, ...]  # a ChangeLog row's values in ``COLUMNS`` order


def changelog_rows(
    workspace_id: uuid.UUID,
    record_type: str,
    record_id: uuid.UUID,
    changes: dict[str, tuple[Any, Any]],
    source: str,
    at: datetime,
) -> list[Row]:
    """One row per changed field (``diff``'s output), old and new values as stored."""
    return [
        (workspace_id, record_type, record_id, field, json_value(old), json_value(new), source, at)
        for field, (old, new) in changes.items()
    ]


def created_rows(
    workspace_id: uuid.UUID,
    record_type: str,
    row: dict[str, Any],
    source: str,
) -> list[Row]:
    """ChangeLog rows of a record being created: one per field it sets, old value null.

    The same rows ``diff({}, set_fields)`` gives, without building the diff: a field is
    logged when its value is not empty (None, {} or []).
    """
    record_id, at = row["id"], row["created_at"]
    out: list[Row] = []
    append = out.append
    for field, value in row.items():
        if value is None or field in _NOT_LOGGED_ON_CREATE:
            continue
        kind = value.__class__
        if kind is not str:  # strings, most values, are stored as they are
            if (kind is dict or kind is list) and not value:
                continue
            value = json_value(value)
        append((workspace_id, record_type, record_id, field, None, value, source, at))
    return out


def write(session: Session, rows: list[Row]) -> None:
    """Write ChangeLog rows in one executemany."""
    outbound.from_changelog(session, rows)
    insert_tuples(session, _TABLE, COLUMNS, rows)


def write_of(session: Session, rows: list[Row]) -> Write:
    """The converted executemany that writes ``rows``, to run with other writes (``bulk.run``)."""
    outbound.from_changelog(session, rows)
    return insert_write(session, _TABLE, COLUMNS, rows)
