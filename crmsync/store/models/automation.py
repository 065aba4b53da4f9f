"""Automation rules, their versions, their runs, and the change-log cursor they read from."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, JSONType, utcnow

BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class AutomationRunStatus(StrEnum):
    """How a rule's run for one cause ended (``running`` only inside its transaction)."""

    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"  # the condition was false
    LOOP = "loop"  # stopped: the rule kept triggering itself
    FAILED = "failed"


class AutomationRule(IdMixin, Base):
    __tablename__ = "automation_rules"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)  # crmsync.automation.spec.RuleSpec
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AutomationRuleVersion(Base):
    """Every version a rule had: runs name the version they ran."""

    __tablename__ = "automation_rule_versions"

    rule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("automation_rules.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AutomationRun(Base):
    __tablename__ = "automation_runs"
    __table_args__ = (
        # A rule fires once per cause (one change, one event), however often it is read.
        UniqueConstraint("rule_id", "cause"),
        Index("ix_automation_runs_record", "rule_id", "record_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    rule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("automation_rules.id", ondelete="CASCADE")
    )
    rule_version: Mapped[int]
    cause: Mapped[str] = mapped_column(String(100))  # change:<change_log id> | event:<id>
    record_type: Mapped[str | None] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(10), default=AutomationRunStatus.RUNNING)
    actions: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AutomationCursor(Base):
    """How far the rules runner has read the ChangeLog (one row)."""

    __tablename__ = "automation_cursor"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigIntId, default=0)
