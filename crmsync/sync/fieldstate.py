"""What crmsync knows each CRM holds, property by property (``FieldState`` rows).

Pushes and reads keep one row per (integration, object type, record, remote property):
the wire value last pushed to that CRM and acknowledged, or last read from it, whichever
crmsync learnt last (``known_at`` on crmsync's clock). Two rules follow:

- a push sends only the properties whose local value differs from the known one;
- a read counts a property as changed in the CRM only when it differs from the known
  one: crmsync's own pushed value seen again is an echo, never a change.

Values are compared normalised (``same``): a phone is compared in E.164, an email in
lower case, a number as a number, so a CRM's own formatting is not a change.

A row is only ever replaced by one learnt later (``known_at``): a read that began before
a push was acknowledged may show the CRM before that push landed, and must not undo it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crmsync.mapping.engine import CompiledMapping
from crmsync.mapping.schema import FieldType
from crmsync.quality.normalize import normalize_email, normalize_phone
from crmsync.records.changelog import json_value
from crmsync.store.models import FieldState

_TABLE = cast(Table, FieldState.__table__)


@dataclass(frozen=True, slots=True)
class Known:
    """What one CRM is known to hold in one property."""

    value: Any
    value_at: datetime | None
    known_at: datetime


KnownProps = dict[str, Known]  # property -> what is known of it


def wire_types(mapping: CompiledMapping) -> dict[str, FieldType]:
    """Remote top-level property -> the field type its values are compared as."""
    out: dict[str, FieldType] = {}
    for step in mapping.steps:
        prop = (step.write if mapping.outbound else step.read).split(".", 1)[0]
        flat = step.flat_write if mapping.outbound else step.flat_read
        out[prop] = step.fm.type if flat else FieldType.OBJECT
    return out


def norm(value: Any, kind: FieldType | None = None, region: str = "US") -> Any:
    """A value in the form two sides are compared in; None for every kind of empty."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, dict | list):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(json_value(value)).strip()
    if not text:
        return None
    if kind is FieldType.PHONE:
        return normalize_phone(text, region) or text
    if kind is FieldType.EMAIL:
        return normalize_email(text) or text.lower()
    if kind is FieldType.NUMBER:
        try:
            number = float(text)
        except ValueError:
            return text
        return text if number != number else repr(number)  # NaN stays text
    if kind is FieldType.BOOLEAN:
        return text.lower()
    return text


def same(a: Any, b: Any, kind: FieldType | None = None, region: str = "US") -> bool:
    return bool(norm(a, kind, region) == norm(b, kind, region))


def load(
    session: Session, integration_id: uuid.UUID, object_type: str, record_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, KnownProps]:
    """Record id -> property -> what the CRM is known to hold."""
    if not record_ids:
        return {}
    rows = session.execute(
        select(
            FieldState.record_id,
            FieldState.property,
            FieldState.value,
            FieldState.value_at,
            FieldState.known_at,
        ).where(
            FieldState.integration_id == integration_id,
            FieldState.object_type == object_type,
            FieldState.record_id.in_(list(record_ids)),
        )
    )
    out: dict[uuid.UUID, KnownProps] = {}
    for record_id, prop, value, value_at, known_at in rows:
        out.setdefault(record_id, {})[prop] = Known(value, value_at, known_at)
    return out


def rows(
    integration_id: uuid.UUID,
    object_type: str,
    record_id: uuid.UUID,
    values: Mapping[str, Any],
    known_at: datetime,
    value_at: Mapping[str, datetime | None] | None = None,
) -> list[dict[str, Any]]:
    """FieldState rows for ``store``: one per property of ``values``."""
    times = value_at or {}
    return [
        {
            "integration_id": integration_id,
            "object_type": object_type,
            "record_id": record_id,
            "property": prop,
            "value": orjson.loads(orjson.dumps(value, default=str)),
            "value_at": times.get(prop),
            "known_at": known_at,
        }
        for prop, value in values.items()
    ]


def store(session: Session, items: Iterable[dict[str, Any]]) -> None:
    """Upsert FieldState rows; a row learnt earlier than the stored one changes nothing."""
    batch = list(items)
    if not batch:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(_TABLE)
    stmt = stmt.on_conflict_do_update(
        index_elements=["integration_id", "object_type", "record_id", "property"],
        set_={
            "value": stmt.excluded.value,
            "value_at": stmt.excluded.value_at,
            "known_at": stmt.excluded.known_at,
        },
        where=_TABLE.c.known_at <= stmt.excluded.known_at,
    )
    # one order for every writer, so concurrent upserts wait instead of deadlocking
    batch.sort(key=lambda r: (str(r["record_id"]), r["property"]))
    session.execute(stmt, batch)


def forget(
    session: Session, integration_id: uuid.UUID, object_type: str, record_id: uuid.UUID
) -> None:
    """Drop what is known of a record's remote copy (it changed under crmsync: a remote
    merge); its next push sends every property."""
    session.execute(
        delete(_TABLE).where(
            _TABLE.c.integration_id == integration_id,
            _TABLE.c.object_type == object_type,
            _TABLE.c.record_id == record_id,
        )
    )
