"""Write and read ChangeLog rows, in the caller's transaction.

A change writes one row per changed field. A created record writes ONE row, field
``CREATED`` (``"*"``), whose new value holds all its initial values: a 1,000,000-row
import would otherwise write ~7 million rows. Readers of "when was this field last
written" count that row as a change of every field it holds (``last_written``).

Rows are built as tuples in ``COLUMNS`` order and written by one driver executemany
(``crmsync.records.bulk``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Table, event, func, select
from sqlalchemy.orm import Session

from crmsync import outbound
from crmsync.metrics import RECORDS_CHANGED
from crmsync.records.bulk import Write, insert_tuples, insert_write
from crmsync.store.models import ChangeLog

# The field of a created record's one ChangeLog row; its new value is {field: value}.
CREATED: Final = "*"
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
    """The ChangeLog of a record being created: one ``CREATED`` row with its initial values.

    A field is held when its value is not empty (None, {} or []), as ``diff({}, fields)``
    would have logged it.
    """
    values = {f: v for f, v in row.items() if v is not None and f not in _NOT_LOGGED_ON_CREATE}
    # strings, most values, are stored as they are; empty objects and lists are left out
    for field in [f for f, v in values.items() if v.__class__ is not str]:
        value = values[field]
        if (value.__class__ is dict or value.__class__ is list) and not value:
            del values[field]
        else:
            values[field] = json_value(value)
    return [
        (workspace_id, record_type, row["id"], CREATED, None, values, source, row["created_at"])
    ]


def last_written(
    session: Session, record_ids: Collection[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], datetime]:
    """(record id, field) -> when the field was last written, creation included."""
    if not record_ids:
        return {}
    ids = list(record_ids)
    out: dict[tuple[uuid.UUID, str], datetime] = {
        (record_id, field): at
        for record_id, field, at in session.execute(
            select(ChangeLog.record_id, ChangeLog.field, func.max(ChangeLog.at))
            .where(ChangeLog.record_id.in_(ids), ChangeLog.field != CREATED)
            .group_by(ChangeLog.record_id, ChangeLog.field)
        )
    }
    created = session.execute(
        select(ChangeLog.record_id, ChangeLog.new_value, ChangeLog.at).where(
            ChangeLog.record_id.in_(ids), ChangeLog.field == CREATED
        )
    )
    for record_id, values, at in created:
        for field in values or ():
            key = (record_id, field)
            if key not in out or out[key] < at:
                out[key] = at
    return out


def write(session: Session, rows: list[Row]) -> None:
    """Write ChangeLog rows in one executemany."""
    outbound.from_changelog(session, rows)
    _count(session, rows)
    insert_tuples(session, _TABLE, COLUMNS, rows)


def write_of(session: Session, rows: list[Row]) -> Write:
    """The converted executemany that writes ``rows``, to run with other writes (``bulk.run``)."""
    outbound.from_changelog(session, rows)
    _count(session, rows)
    return insert_write(session, _TABLE, COLUMNS, rows)


# Records changed in a session's open transaction: record id -> (type, operation). The
# ``crmsync_records_changed_total`` metric counts them when the transaction commits, a
# record once per transaction, as its strongest operation (created > deleted > updated).
_PENDING: Final = "crmsync.records_changed"
_RANK: Final = {"updated": 0, "restored": 1, "deleted": 2, "created": 3}


def _operation(field: str, new_value: Any) -> str:
    if field == CREATED:
        return "created"
    if field == "deleted_at":
        return "deleted" if new_value is not None else "restored"
    return "updated"


def _count(session: Session, rows: list[Row]) -> None:
    pending: dict[uuid.UUID, tuple[str, str]] = session.info.setdefault(_PENDING, {})
    for _ws, record_type, record_id, field, _old, new, _source, _at in rows:
        operation = _operation(field, new)
        held = pending.get(record_id)
        if held is None or _RANK[operation] > _RANK[held[1]]:
            pending[record_id] = (record_type, operation)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    pending: dict[uuid.UUID, tuple[str, str]] = session.info.pop(_PENDING, None) or {}
    for (record_type, operation), count in Counter(pending.values()).items():
        RECORDS_CHANGED.labels(type=record_type, operation=operation).inc(count)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
