"""Alerts: something an admin must act on (revoked credentials, failing sync, …).

One open alert per (workspace, kind, subject): a condition that keeps holding bumps its
``count`` and ``last_seen_at`` instead of opening another, so a storm is one alert.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, JSONType, utcnow


class AlertStatus(StrEnum):
    """An alert is open until an admin acknowledges it or its condition stops holding."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Alert(IdMixin, Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index(
            "uq_alerts_open",
            "workspace_id",
            "kind",
            "subject",
            unique=True,
            sqlite_where=text(f"status != '{AlertStatus.RESOLVED}'"),
            postgresql_where=text(f"status != '{AlertStatus.RESOLVED}'"),
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(100))  # what it is about: an id
    severity: Mapped[str] = mapped_column(String(10))  # warning | critical
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(15), default=AlertStatus.OPEN)
    count: Mapped[int] = mapped_column(default=1)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
