"""App events (``POST /api/v1/events``), stored with their idempotency key and answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, utcnow


class Event(IdMixin, Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(100), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the canonical request body: same key + other body is a 409.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    processed_at: Mapped[datetime | None]
