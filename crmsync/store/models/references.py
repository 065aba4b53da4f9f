"""References read from a CRM whose target record has not arrived yet."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, utcnow


class PendingReference(IdMixin, Base):
    """A record's reference field waiting for the record a CRM id points to.

    A deal read from a CRM names a contact by the CRM's id; while no Link pairs that id
    with a crmsync record, the deal's field stays empty and this row remembers the id.
    When a record arrives under that remote id (its Link is made), the field is filled
    and the row goes.
    """

    __tablename__ = "pending_references"
    __table_args__ = (
        UniqueConstraint(
            "integration_id", "object_type", "record_id", "field", name="uq_pending_references"
        ),
        Index("ix_pending_references_target", "integration_id", "target_type", "remote_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(20))  # the record holding the field
    record_id: Mapped[uuid.UUID]
    field: Mapped[str] = mapped_column(String(50))
    target_type: Mapped[str] = mapped_column(String(20))
    remote_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
