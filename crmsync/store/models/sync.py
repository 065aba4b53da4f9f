"""The outbox (SyncJob), the sync log (SyncRun), inbound webhook events and conflicts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, JSONType, utcnow

BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class SyncJobStatus(StrEnum):
    """Where a SyncJob is: pending -> running -> succeeded, back to pending for a retry,
    or failed (no retry helps) or dead (its retries spent: the dead-letter queue)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD = "dead"


class SyncRunStatus(StrEnum):
    """A SyncRun's outcome; ``queued`` is a requested inbound poll no worker took yet."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some records failed
    FAILED = "failed"


class ConflictStatus(StrEnum):
    """A Conflict is open until a person (or both sides agreeing again) resolves it."""

    OPEN = "open"
    RESOLVED = "resolved"


class SyncJob(Base):
    """One push of one record to one integration; the row rides the record's transaction."""

    __tablename__ = "sync_jobs"
    __table_args__ = (
        # Coalescing: at most one pending job per (integration, object, record, operation).
        Index(
            "uq_sync_jobs_pending",
            "integration_id",
            "object_type",
            "record_id",
            "operation",
            unique=True,
            sqlite_where=text(f"status = '{SyncJobStatus.PENDING}'"),
            postgresql_where=text(f"status = '{SyncJobStatus.PENDING}'"),
        ),
        # Per-record ordering: one running job per record and integration, enforced by the
        # database, so two workers claiming at the same instant cannot both push it.
        Index(
            "uq_sync_jobs_running",
            "integration_id",
            "object_type",
            "record_id",
            unique=True,
            sqlite_where=text(f"status = '{SyncJobStatus.RUNNING}'"),
            postgresql_where=text(f"status = '{SyncJobStatus.RUNNING}'"),
        ),
        # The claim query: due jobs by priority, oldest first.
        Index("ix_sync_jobs_due", "status", "priority", "next_attempt_at", "id"),
        Index("ix_sync_jobs_record", "integration_id", "object_type", "record_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID]
    operation: Mapped[str] = mapped_column(String(10))  # upsert | delete | merge
    priority: Mapped[int] = mapped_column(default=1)  # 0 real-time, 1 scheduled, 2 backfill
    status: Mapped[str] = mapped_column(String(10), default=SyncJobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    error_class: Mapped[str | None] = mapped_column(String(40))
    # When the change was committed: the start of the sync-latency measurement.
    enqueued_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncRun(IdMixin, Base):
    """One run's entry in the sync log, with its counts."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_integration", "integration_id", "started_at"),
        # the workspace's volume per day, read from the index alone
        Index("ix_sync_runs_volume", "workspace_id", "started_at", "status", "processed", "failed"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    # full | incremental | manual | webhook | import | realtime
    kind: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))  # mapping.direction: outbound | inbound
    object_type: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=SyncRunStatus.RUNNING)
    processed: Mapped[int] = mapped_column(default=0)
    succeeded: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    errors: Mapped[list[Any]] = mapped_column(JSONType, default=list)


class WebhookEvent(IdMixin, Base):
    """A delivery received from a CRM: stored before it is processed, dropped if replayed."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("integration_id", "event_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    provider: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[Any] = mapped_column(JSONType)
    processed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)


class Conflict(IdMixin, Base):
    """A field changed on both sides, kept for a person to resolve (policy ``manual``)."""

    __tablename__ = "conflicts"
    __table_args__ = (Index("ix_conflicts_open", "workspace_id", "status", "created_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID]
    field: Mapped[str] = mapped_column(String(100))
    local_value: Mapped[Any | None] = mapped_column(JSONType)
    local_at: Mapped[datetime | None]
    remote_value: Mapped[Any | None] = mapped_column(JSONType)
    remote_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default=ConflictStatus.OPEN)
    resolution: Mapped[str | None] = mapped_column(String(20))  # local | remote | custom | agreed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class FieldState(Base):
    """What crmsync knows one CRM holds in one property of one linked record.

    ``value`` is the wire value last pushed to that CRM (and acknowledged) or last read
    from it, whichever crmsync learnt last (``known_at``, crmsync's clock: the push's
    acknowledgement or the start of the read). ``value_at`` is when that value was
    written at its origin: the app's ChangeLog time for a pushed value, the CRM's own
    time for a read one. Pushes send the properties whose local value differs from
    ``value``; reads count a property as changed in the CRM only when it differs from it.
    """

    __tablename__ = "sync_field_states"
    __table_args__ = (
        UniqueConstraint(
            "integration_id", "object_type", "record_id", "property", name="uq_field_states"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID]
    property: Mapped[str] = mapped_column(String(200))
    value: Mapped[Any | None] = mapped_column(JSONType)
    value_at: Mapped[datetime | None]
    known_at: Mapped[datetime] = mapped_column(default=utcnow)
