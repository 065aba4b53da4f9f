"""Marketing: journeys imported from CRMs, enrolments, trigger rules and their firings,
engagement scores and the workspace's marketing settings.

Invariants the database keeps:
- a contact has at most one *active* enrolment per journey (partial unique index), so
  an event delivered twice, or a rule and a person enrolling at once, make one enrolment;
- a rule fires at most once per (event, journey): ``rule_firings`` is unique on them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, JSONType, utcnow


class EnrollmentStatus(StrEnum):
    """An enrolment is active until the journey completes it or someone unenrols it."""

    ACTIVE = "active"
    COMPLETED = "completed"
    UNENROLLED = "unenrolled"


class Journey(IdMixin, Base):
    """A journey (Total Expert), workflow (HubSpot) or campaign (Salesforce) of one CRM."""

    __tablename__ = "journeys"
    __table_args__ = (UniqueConstraint("integration_id", "remote_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    remote_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    trigger_type: Mapped[str | None] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(default=True)
    # [{"name", "template", "delay_minutes"}] when the CRM gives them
    steps: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    # the CRM's own figures, as last read
    remote_enrollment_count: Mapped[int | None]
    remote_completion_rate: Mapped[float | None] = mapped_column(Float)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # gone from the CRM at the last refresh (kept: enrolments point at it)
    removed_at: Mapped[datetime | None]


class Enrollment(IdMixin, Base):
    """One contact in one journey, from enrolment to its end; a sync object."""

    __tablename__ = "enrollments"
    __table_args__ = (
        Index(
            "uq_enrollments_active",
            "journey_id",
            "contact_id",
            unique=True,
            sqlite_where=text(f"status = '{EnrollmentStatus.ACTIVE}'"),
            postgresql_where=text(f"status = '{EnrollmentStatus.ACTIVE}'"),
        ),
        Index("ix_enrollments_contact", "workspace_id", "contact_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    journey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("journeys.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=EnrollmentStatus.ACTIVE)
    # manual | rule:<rule name>
    trigger: Mapped[str] = mapped_column(String(120), default="manual")
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(120))


class TriggerRule(IdMixin, Base):
    """When an event of ``event_type`` matches ``conditions``, enrol in or unenrol from
    the journeys ``journeys`` selects."""

    __tablename__ = "trigger_rules"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(100), index=True)
    # {"data": {field: value | [values]}, "contact": {field: value | [values]}}
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    action: Mapped[str] = mapped_column(String(10), default="enroll")  # enroll | unenroll
    # {"ids": [...], "remote_ids": [...], "categories": [...], "names": [...]}
    journeys: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RuleFiring(IdMixin, Base):
    """One rule acting on one journey for one event: the audit trail of automation."""

    __tablename__ = "rule_firings"
    __table_args__ = (UniqueConstraint("rule_id", "event_key", "journey_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trigger_rules.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    # the event's identity across redeliveries: its idempotency key, the app's event id,
    # else the stored event's id
    event_key: Mapped[str] = mapped_column(String(220))
    journey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))
    # enrolled | already_enrolled | unenrolled | not_enrolled
    outcome: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class EngagementState(Base):
    """A contact's engagement: per interaction type, the decayed sum of its points as of
    ``as_of``. Decay is exponential, so a sum moves to a later time by one factor and a
    new activity adds to it: updates are O(types), not O(activities)."""

    __tablename__ = "engagement_states"

    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    as_of: Mapped[datetime]
    sums: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    high: Mapped[bool] = mapped_column(default=False)  # above the threshold last time
    # when the CRMs' own engagement (e-mail opens, replies) was last read for this contact
    crm_checked_at: Mapped[datetime | None]


class MarketingSettings(Base):
    """A workspace's engagement model and timeline policy (JSON; typed in
    ``crmsync.marketing.settings``)."""

    __tablename__ = "marketing_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
