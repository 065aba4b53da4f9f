"""Webhook endpoints of the host app, and the deliveries crmsync makes to them.

A **WebhookEndpoint** is a URL of the app's, with the event types it takes and a signing
secret (encrypted at rest). A **WebhookDelivery** is one outbound event on its way to one
endpoint: fanned out from the outbound-event outbox (``outbound_events``), retried on a
schedule, and settled ``succeeded`` or ``dead``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, JSONType, utcnow

BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class DeliveryStatus(StrEnum):
    """A WebhookDelivery is pending (due at ``next_attempt_at``) until it is delivered
    (succeeded) or its attempts are spent or it is given up (dead)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    DEAD = "dead"


class WebhookEndpoint(IdMixin, Base):
    __tablename__ = "webhook_endpoints"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(255))
    # Event types this endpoint takes; empty takes every type.
    event_types: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    secret: Mapped[str] = mapped_column(Text)  # vault ciphertext of "whsec_…"
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # The last outbound event fanned out to this endpoint (outbound_events.id).
    cursor: Mapped[int] = mapped_column(BigIntId, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # Per-record order: the earliest pending delivery of (endpoint, key) goes first.
        Index("ix_webhook_deliveries_order", "endpoint_id", "key", "status", "id"),
        # An event is fanned out to an endpoint once, however often the outbox is read.
        Index(
            "uq_webhook_deliveries_event",
            "endpoint_id",
            "event_id",
            unique=True,
            sqlite_where=text("replay_of IS NULL"),
            postgresql_where=text("replay_of IS NULL"),
        ),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            sqlite_where=text(f"status = '{DeliveryStatus.PENDING}'"),
            postgresql_where=text(f"status = '{DeliveryStatus.PENDING}'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("outbound_events.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    # A replay is a new delivery of the same event, pointing at the one it repeats.
    replay_of: Mapped[int | None] = mapped_column(BigIntId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
