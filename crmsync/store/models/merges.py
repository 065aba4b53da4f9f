"""MergedRecord: where a merged-away record went, so later references to it resolve.

One row per merged-away record. When a survivor is itself merged later, its rows are
re-pointed at the new survivor in the same transaction, so any merged-away id resolves
to the final survivor with one look-up.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, utcnow


class MergedRecord(IdMixin, Base):
    __tablename__ = "merged_records"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "record_type", "merged_id", name="uq_merged_records_merged"
        ),
        Index("ix_merged_records_survivor", "workspace_id", "record_type", "survivor_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    record_type: Mapped[str] = mapped_column(String(20))
    merged_id: Mapped[uuid.UUID]
    # Always the final survivor: re-pointed when the survivor is merged in turn.
    survivor_id: Mapped[uuid.UUID]
    strategy: Mapped[str] = mapped_column(String(20))
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
