"""Declarative base with a fixed naming convention and the column types every model shares."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Fixed names make migrations identical on every database and diffable by `alembic check`.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset by itself)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; crmsync stores aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


_VERSION_7 = 0x7 << 76
_VARIANT = 0x2 << 62
_RANDOM_BITS = 74  # rand_a (12 bits) and rand_b (62 bits)
_last = (0, 0)  # the (millisecond, random part) of the id made last in this process
_last_lock = threading.Lock()


def new_id() -> uuid.UUID:
    """A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.

    Ids made close in time sort close together, so each batch of new rows lands on a few
    index pages instead of one random page per row (what uuid4 costs on every insert).
    Within a process ids sort in the order they were made, also inside one millisecond
    (RFC 9562 §6.2, method 2: the random part of a later id in the same millisecond is
    the previous one's plus a random step), so "oldest first" by id decides ties between
    records created together the same way every time.
    """
    global _last
    ms = time.time_ns() // 1_000_000
    with _last_lock:
        last_ms, last_random = _last
        if ms > last_ms:
            random_part = int.from_bytes(os.urandom(10)) >> (80 - _RANDOM_BITS)
        else:  # the same millisecond, or the clock stepped back: count on from the last
            ms = last_ms
            random_part = last_random + 1 + (int.from_bytes(os.urandom(3)) >> 4)
            if random_part >> _RANDOM_BITS:  # this millisecond's ids are used up
                ms += 1
                random_part = int.from_bytes(os.urandom(10)) >> (80 - _RANDOM_BITS + 1)
        _last = (ms, random_part)
    rand_a, rand_b = random_part >> 62, random_part & ((1 << 62) - 1)
    return uuid.UUID(int=(ms << 80) | _VERSION_7 | (rand_a << 64) | _VARIANT | rand_b)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
