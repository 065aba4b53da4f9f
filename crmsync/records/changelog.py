"""Write ChangeLog rows: one per changed field, in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from crmsync.records.bulk import insert_rows
from crmsync.store.models import ChangeLog

SKIP_FIELDS = frozenset({"updated_at", "created_at", "version", "email_key", "phone_key", "id"})


def json_value(value: Any) -> Any:
    """A JSON-storable form of a column value (ChangeLog keeps old/new as JSON)."""
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


def write(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        insert_rows(session, ChangeLog.__table__, rows)  # type: ignore[arg-type]
