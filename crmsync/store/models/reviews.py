"""DuplicateReview: a pair of records a person confirms or rejects as one person.

The engine's `possible` pairs (likely, but not sure enough to act on) wait here with
status `possible`; a decision moves them to `confirmed` or `rejected`. A rejected pair
is never proposed again. Pairs are stored with the smaller id first.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, utcnow


class ReviewStatus(StrEnum):
    POSSIBLE = "possible"  # waits for a person
    CONFIRMED = "confirmed"  # one person
    REJECTED = "rejected"  # two people: never proposed again


class DuplicateReview(IdMixin, Base):
    __tablename__ = "duplicate_reviews"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "record_type", "left_id", "right_id", name="uq_duplicate_reviews_pair"
        ),
        Index("ix_duplicate_reviews_status", "workspace_id", "record_type", "status"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    record_type: Mapped[str] = mapped_column(String(20))
    left_id: Mapped[uuid.UUID]
    right_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.POSSIBLE)
    score: Mapped[float] = mapped_column(Float)
    # what proposed it: "import:<job id>", "api"
    source: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
