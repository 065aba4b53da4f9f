"""Sync health per (integration, object type), and the API quota each CRM reports.

``SyncObjectState`` is what isolates one object type from the others: its back-off
(``backoff_until``) and its schedule (``next_push_at``) hold only that type's jobs, and
its last successful push and pull feed the health answer. ``ApiQuota`` keeps the last
quota figures a CRM sent in its answers' headers (Salesforce ``Sforce-Limit-Info``,
HubSpot's daily-limit headers, Pipedrive's token budget).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, utcnow


class ObjectSyncStatus(StrEnum):
    """A type is ok, or failing: its calls fail and it backs off (``backoff_until``)."""

    OK = "ok"
    FAILING = "failing"


class SyncObjectState(IdMixin, Base):
    """How one object type of one integration is doing, and when it may push again."""

    __tablename__ = "sync_object_states"
    __table_args__ = (UniqueConstraint("integration_id", "object_type"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=ObjectSyncStatus.OK)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_class: Mapped[str | None] = mapped_column(String(40))
    last_error_at: Mapped[datetime | None]
    # this type's jobs are not claimed before these moments (back-off, schedule)
    backoff_until: Mapped[datetime | None]
    next_push_at: Mapped[datetime | None]


class ApiQuota(IdMixin, Base):
    """The API quota a CRM last reported for one integration (``name``: which window)."""

    __tablename__ = "api_quotas"
    __table_args__ = (UniqueConstraint("integration_id", "name"),)

    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(40))  # daily, daily-tokens, burst
    used: Mapped[int] = mapped_column(default=0)
    limit: Mapped[int] = mapped_column(default=0)
    observed_at: Mapped[datetime] = mapped_column(default=utcnow)
