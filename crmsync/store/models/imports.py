"""Import jobs and the rows of them that did not become records.

An ``ImportJob`` is one uploaded file, its mapping and options, and its progress
counters. ``next_row`` is the checkpoint: the number of source rows already handled,
committed in the same transaction as the records of the last batch, so a restarted run
resumes after it and no row is imported twice. Rows that failed or were skipped as
duplicates get an ``ImportRow`` each; the rows that became records are listed by one
``ImportBatch`` per committed batch (row, outcome, record id, warnings), so a million
clean rows cost a few hundred rows here, not a million. The ChangeLog, with source
``import:<job id>``, records what they changed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, utcnow


class ImportStatus(StrEnum):
    """pending -> queued -> running -> completed | failed | cancelled; a running job asked
    to stop is cancelling until its current batch commits."""

    PENDING = "pending"  # uploaded, not started
    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ImportJob(IdMixin, Base):
    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_workspace", "workspace_id", "created_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    # Where the uploaded file is kept, relative to the imports data directory.
    stored_path: Mapped[str] = mapped_column(String(500))
    file_format: Mapped[str] = mapped_column(String(10))
    object_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.PENDING)
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    total_rows: Mapped[int | None]
    next_row: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    # rows imported that may duplicate a record: queued for review (duplicate_reviews)
    possible_duplicates: Mapped[int] = mapped_column(Integer, default=0)
    headers: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(String(2000))
    retry_of: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Moved on after every batch; a run that stops moving is taken over by the next one.
    heartbeat_at: Mapped[datetime | None]
    # Set when the import was undone (its created records deleted, its changes restored).
    undone_at: Mapped[datetime | None]


class ImportRow(IdMixin, Base):
    """A source row that failed or was a duplicate, with its values as read and why."""

    __tablename__ = "import_rows"
    __table_args__ = (UniqueConstraint("job_id", "row_number"),)

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    line: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))  # failed | duplicate
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    duplicate_of: Mapped[uuid.UUID | None]


class ImportBatch(IdMixin, Base):
    """The rows of one committed batch that became records, in row order.

    ``rows`` holds ``[row number, line, "created" | "updated", record id, warnings]``
    per row (record id None in a dry run, warnings None when there were none).
    """

    __tablename__ = "import_batches"
    __table_args__ = (UniqueConstraint("job_id", "first_row"),)

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    first_row: Mapped[int] = mapped_column(Integer)
    last_row: Mapped[int] = mapped_column(Integer)
    rows: Mapped[list[Any]] = mapped_column(default=list)
