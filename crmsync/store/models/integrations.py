"""Integrations (one connected CRM account each), their field mappings and links.

Credentials and webhook secrets are stored only as vault ciphertext (see
``crmsync.integrations.vault``), bound to the workspace and integration.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, JSONType, TimestampMixin


class IntegrationStatus(StrEnum):
    """An integration's stored status; only a connected one is called (the API and
    dashboard show ``degraded`` for a connected one whose object types fail)."""

    CONNECTED = "connected"
    NEEDS_AUTH = "needs_auth"  # its credentials were refused: a person reconnects it
    ERROR = "error"
    DISABLED = "disabled"  # switched off by a person


class Integration(IdMixin, TimestampMixin, Base):
    __tablename__ = "integrations"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=IntegrationStatus.CONNECTED)
    base_url: Mapped[str | None] = mapped_column(String(500))
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)
    webhook_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    # objects, direction per object, frequency, auto_sync, conflict_policy,
    # delete_propagation, retry policy: see crmsync.integrations for the typed form.
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    rate_limit_profile: Mapped[str | None] = mapped_column(String(60))
    error_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]


class IntegrationMapping(IdMixin, TimestampMixin, Base):
    """An integration's own mapping of one object type, stored as the ``ObjectMapping``
    it replaces the provider's default with (or, under ``_status_maps``, its status maps).
    The field mappings inside are ``crmsync.mapping.model.FieldMapping``."""

    __tablename__ = "field_mappings"
    __table_args__ = (UniqueConstraint("integration_id", "object_type"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(20))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class SyncCursor(IdMixin, Base):
    """Where incremental reading of one object type from one integration got to."""

    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("integration_id", "object_type"),)

    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(20))
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime | None]


class Link(IdMixin, Base):
    """A record paired with its id in one integration's CRM; unique both ways."""

    __tablename__ = "links"
    __table_args__ = (
        UniqueConstraint("integration_id", "object_type", "record_id", name="uq_links_record"),
        UniqueConstraint("integration_id", "object_type", "remote_id", name="uq_links_remote"),
        Index("ix_links_record", "workspace_id", "record_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID]
    remote_id: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the last payload pushed: an unchanged record is not pushed again.
    last_pushed_hash: Mapped[str | None] = mapped_column(String(64))
    remote_modified_at: Mapped[datetime | None]
    last_synced_at: Mapped[datetime | None]
