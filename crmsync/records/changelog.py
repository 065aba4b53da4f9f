"""Write ChangeLog rows: one per changed field, in the caller's transaction.

Rows are built as tuples in ``COLUMNS`` order and written by one driver executemany
(``crmsync.records.bulk.insert_tuples``): a batch of 1,000 new contacts writes ~18,000.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from crmsync.records.bulk import insert_tuples
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


def changelog_rows(
    workspace_id: uuid.UUID,
    record_type: str,
    record_id: uuid.UUID,
    changes: dict[str, tuple[Any, Any]],
    source: str,
    at: datetime,
) -> Iterable[dict[str, Any]]:
    for field, (old, new) in changes.items():
        yield {
            "workspace_id": workspace_id,
            "record_type": record_type,
            "record_id": record_id,
            "field": field,
            "old_value": json_value(old),
            "new_value": json_value(new),
            "source": source,
            "at": at,
        }


def created_rows(
    workspace_id: uuid.UUID,
    record_type: str,
    row: dict[str, Any],
    source: str,
) -> list[tuple[Any, ...]]:
    """ChangeLog tuples of a record being created: one per field it sets, old value null.

    The same rows ``diff({}, set_fields)`` gives, without building the diff: a field is
    logged when its value is not empty (None, {} or []).
    """
    record_id, at = row["id"], row["created_at"]
    return [
        (workspace_id, record_type, record_id, field, None, json_value(value), source, at)
        for field, value in row.items()
        if field not in _NOT_LOGGED_ON_CREATE and value is not None and value != {} and value != []
    ]


def write(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write ChangeLog rows given as dicts with every key of ``COLUMNS``."""
    if rows:
        insert_tuples(session, _TABLE, COLUMNS, [tuple(r[c] for c in COLUMNS) for r in rows])


def write_tuples(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Write ChangeLog rows given as tuples in ``COLUMNS`` order (the fast path)."""
    insert_tuples(session, _TABLE, COLUMNS, rows)
