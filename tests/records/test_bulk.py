"""The driver-level insert stores exactly what SQLAlchemy's Core insert stores."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Table, column, insert, select
from sqlalchemy import table as table_clause
from sqlalchemy.orm import Session

from crmsync.records import changelog
from crmsync.records.bulk import insert_copy, insert_rows, insert_tuples
from crmsync.store.models import ChangeLog, Contact
from tests.conftest import Tenant

CHANGE_LOG: Table = ChangeLog.__table__  # type: ignore[assignment]
CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
# JSON values whose stored forms differ although Python calls some of them equal.
JSON_VALUES: list[Any] = [None, "x", "", 1, True, 1.0, 0.0, -0.0, False, 0, {"a": [1]}, [], {}]
AT = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
# The same instant written in other zones: stored as the same UTC value.
SAME_INSTANTS = [
    AT,
    AT.astimezone(timezone(timedelta(hours=5))),
    AT.astimezone(timezone(timedelta(0), "Z")),
]


def _stored(db: Session, table: Table, source: str) -> list[tuple[Any, ...]]:
    """Rows as the database holds them (no type processing), without the generated id."""
    raw = table_clause(table.name, *(column(c.name) for c in table.columns))
    stmt = (
        select(*(c for c in raw.c if c.name != "id"))
        .where(raw.c.source == source)
        .order_by(raw.c.id)
    )
    return [tuple(r) for r in db.execute(stmt)]


def _loaded(db: Session, source: str) -> list[tuple[Any, ...]]:
    stmt = select(ChangeLog).where(ChangeLog.source == source).order_by(ChangeLog.id)
    return [(c.workspace_id, c.field, c.old_value, c.new_value, c.at) for c in db.scalars(stmt)]


def _log_rows(workspace_id: uuid.UUID, source: str) -> list[tuple[Any, ...]]:
    record = uuid.uuid4()
    rows = [
        (workspace_id, "contacts", record, f"f{i}", old, new, source, at)
        for i, (old, new) in enumerate(zip(JSON_VALUES, reversed(JSON_VALUES), strict=True))
        for at in SAME_INSTANTS
    ]
    # Repeated values are converted once and shared; the result must not depend on it.
    return rows + rows[:3]


@pytest.mark.parametrize("writer", ["tuples", "copy"])
def test_changelog_tuples_store_what_core_insert_stores(
    db: Session, tenant: Tenant, writer: str
) -> None:
    """``insert_tuples`` (changelog.write) and ``insert_copy`` (one COPY on PostgreSQL):
    the values a Core insert stores, JSON and instants in other zones included."""
    fast, core = _log_rows(tenant.id, "fast"), _log_rows(tenant.id, "core")
    if writer == "tuples":
        changelog.write(db, fast)
    else:
        insert_copy(db, CHANGE_LOG, changelog.COLUMNS, fast)
    db.connection().execute(
        insert(CHANGE_LOG), [dict(zip(changelog.COLUMNS, row, strict=True)) for row in core]
    )
    db.flush()
    stored_fast, stored_core = _stored(db, CHANGE_LOG, "fast"), _stored(db, CHANGE_LOG, "core")
    assert len(stored_fast) == len(fast)
    # record ids differ between the two sets; everything else is stored identically
    assert [r[:2] + r[3:-2] + r[-1:] for r in stored_fast] == [
        r[:2] + r[3:-2] + r[-1:] for r in stored_core
    ]
    got, want = _loaded(db, "fast"), _loaded(db, "core")
    assert got == [(r[0], r[3], r[4], r[5], AT) for r in fast]
    # equal is not enough (1 == True == 1.0): what loads back has the same types as well
    assert [tuple(map(type, r)) for r in got] == [tuple(map(type, r)) for r in want]
    db.rollback()


def test_insert_rows_fills_defaults_and_groups_shapes(db: Session, tenant: Tenant) -> None:
    """Rows setting different columns still insert; columns left out get their defaults."""
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "workspace_id": tenant.id,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    rows: list[dict[str, Any]] = [
        {**base, "id": uuid.uuid4(), "email": "a@x.com", "custom_fields": {"k": 1}},
        {**base, "id": uuid.uuid4(), "first_name": "B"},
        {"first_name": "C", **base, "id": uuid.uuid4(), "email": None},
    ]
    insert_rows(db, CONTACTS, rows)
    got = {
        c.id: c for c in db.scalars(select(Contact).where(Contact.id.in_([r["id"] for r in rows])))
    }
    assert got[rows[0]["id"]].custom_fields == {"k": 1}
    assert got[rows[0]["id"]].social_profiles == {}  # the column's default, not NULL
    assert got[rows[1]["id"]].custom_fields == {} and got[rows[1]["id"]].email is None
    assert got[rows[2]["id"]].first_name == "C" and got[rows[2]["id"]].created_at == now
    db.rollback()


def test_insert_tuples_with_nothing_to_insert(db: Session) -> None:
    insert_tuples(db, CHANGE_LOG, changelog.COLUMNS, [])
    assert db.scalar(select(ChangeLog.id).where(ChangeLog.source == "nothing")) is None
