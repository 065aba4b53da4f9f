"""Event-bus sources crmsync consumes, and the outbound-event outbox it publishes from."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, JSONType, utcnow

BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class BusSourceStatus(StrEnum):
    """What a source's consumer last reported: ``paused`` while the operator's switch holds
    it, ``error`` when it could not reach its broker (``last_error`` says why)."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    ERROR = "error"


class BusSource(IdMixin, Base):
    """A stream, queue, subject or topic that one workspace's messages arrive on.

    The consumer that runs it writes its status and counts back here, so the API can show
    them; ``paused`` is the operator's switch, read by the consumer between batches.
    """

    __tablename__ = "bus_sources"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)  # redis:// amqp:// nats:// kafka://
    stream: Mapped[str] = mapped_column(String(255))
    group: Mapped[str] = mapped_column(String(100), default="crmsync")
    # Run by `crmsync worker` (configured) or by one `crmsync consume` (registered).
    enabled: Mapped[bool] = mapped_column(default=True)
    paused: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default=BusSourceStatus.IDLE)
    last_error: Mapped[str | None] = mapped_column(Text)
    stored: Mapped[int] = mapped_column(BigIntId, default=0)
    duplicates: Mapped[int] = mapped_column(BigIntId, default=0)
    dead_lettered: Mapped[int] = mapped_column(BigIntId, default=0)
    lag: Mapped[int | None] = mapped_column(BigIntId)
    last_message_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboundEvent(Base):
    """What happened in crmsync, for the outside world: the outbound-event outbox.

    Rows ride the transaction of the change they describe and are never changed except
    to mark them handed on. The id orders them: per ``key`` (a record id) the order is the
    order of the changes, because a record's changes commit one after another. The bus
    publisher sets ``published_at``; a later deliverer (outbound webhooks) can keep its
    own marks on the same rows.
    """

    __tablename__ = "outbound_events"
    __table_args__ = (
        Index(
            "ix_outbound_events_unpublished",
            "id",
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # record.changed_from_crm | deal.stage_changed | sync.failed
    type: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100))  # what order is kept by: a record id
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
