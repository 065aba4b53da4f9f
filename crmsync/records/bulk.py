"""Bulk inserts through SQLAlchemy Core, one statement per shape of row.

Rows that set different columns cannot share an executemany, and the ORM's bulk path
pays per row; grouping rows by the columns they set keeps a batch of 1,000 sparse
contacts (and their ~10,000 ChangeLog rows) to a handful of statements.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_shape[tuple(sorted(row))].append(row)
    connection = session.connection()
    for group in by_shape.values():
        connection.execute(insert(table), group)
