"""ChangeLog: one row per changed field (one `*` row per creation); the audit trail and the
input of conflict resolution."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, JSONType, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY, so BIGINT becomes INTEGER there.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class ChangeLog(Base):
    __tablename__ = "change_log"
    __table_args__ = (
        # Record ids are unique across types and workspaces: the lookups (a record's last
        # change per field) need no more, and a narrower key is cheaper on every insert.
        Index("ix_change_log_record_field", "record_id", "field", "at"),
    )

    # An integer key keeps inserts cheap: ChangeLog is the most-written table.
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID]
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID]
    field: Mapped[str] = mapped_column(String(100))
    old_value: Mapped[Any | None] = mapped_column(JSONType)
    new_value: Mapped[Any | None] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)
