"""A workspace's marketing settings: the engagement model and the timeline policy.

Stored as JSON in ``marketing_settings`` and read through these models, so a setting
that is absent takes its default and a bad one is refused when it is saved.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from crmsync.fields.enums import ActivityDirection
from crmsync.store.models import MarketingSettings

# points per interaction: what the contact did, not what we sent
DEFAULT_WEIGHTS: dict[str, float] = {
    "pos_application_submitted": 30.0,
    "meeting": 15.0,
    "call": 10.0,
    "milestone_update": 8.0,
    "message": 5.0,
    "email": 3.0,
    "sms": 3.0,
    "rate_alert": 4.0,
    "social": 2.0,
    "push_notification": 1.0,
    "journey_step": 1.0,
}
DEFAULT_CAPS: dict[str, float] = {
    "pos_application_submitted": 40.0,
    "meeting": 30.0,
    "call": 30.0,
    "milestone_update": 20.0,
    "message": 25.0,
    "email": 20.0,
    "sms": 15.0,
    "rate_alert": 12.0,
    "social": 15.0,
    "push_notification": 5.0,
    "journey_step": 5.0,
}


class EngagementModel(BaseModel):
    """Points = weight[type] x channel[channel] x direction[direction], decayed by half
    every ``half_life_days``; each type's decayed sum is capped, the score is the sum of
    the capped sums, at most 100."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    caps: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_CAPS))
    default_weight: float = Field(1.0, ge=0, description="a type not in `weights`")
    default_cap: float = Field(10.0, ge=0)
    channels: dict[str, float] = Field(
        default_factory=lambda: {"in_app": 1.0, "email": 1.0, "sms": 1.0, "push": 0.5}
    )
    directions: dict[str, float] = Field(
        default_factory=lambda: {
            ActivityDirection.INBOUND.value: 1.0,
            ActivityDirection.OUTBOUND.value: 0.4,
        }
    )
    half_life_days: float = Field(14.0, gt=0)
    high_threshold: float = Field(70.0, ge=0, le=100)
    # below this a high contact has cooled (a gap, so a score near the line does not flap)
    cooled_threshold: float = Field(50.0, ge=0, le=100)
    # CRM-side figures (Total Expert engagement) are read at most this often
    crm_cache_minutes: int = Field(60, ge=1)

    @model_validator(mode="after")
    def _gap(self) -> EngagementModel:
        if self.cooled_threshold > self.high_threshold:
            raise ValueError("cooled_threshold must not be above high_threshold")
        return self


class TimelinePolicy(BaseModel):
    """Which activity types reach one provider's timeline, and how often."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    types: list[str] = Field(default_factory=lambda: ["*"], description="'*' for every type")
    # types written as notes rather than activities, where the CRM tells them apart
    as_note: list[str] = Field(default_factory=list)
    interval_minutes: int = Field(0, ge=0, le=1440, description="0: as they happen")
    batch_size: int = Field(50, ge=1, le=200)
    attempts: int = Field(3, ge=1, le=20)

    def sends(self, activity_type: str) -> bool:
        return "*" in self.types or activity_type in self.types


def _default_timeline() -> dict[str, TimelinePolicy]:
    # the mortgage app: every in-app touch on Total Expert, in batches of 50 every 15 min
    return {
        "totalexpert": TimelinePolicy(interval_minutes=15, batch_size=50, attempts=3),
        "salesforce": TimelinePolicy(interval_minutes=0, batch_size=200, attempts=5),
    }


class MarketingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    engagement: EngagementModel = Field(default_factory=EngagementModel)
    # provider (or integration id) -> policy; a provider not named gets no timeline
    timeline: dict[str, TimelinePolicy] = Field(default_factory=_default_timeline)
    # refresh journeys from the CRMs when the catalogue is older than this (4 hours)
    journey_cache_minutes: int = Field(240, ge=1)

    def timeline_for(self, provider: str, integration_id: uuid.UUID) -> TimelinePolicy | None:
        return self.timeline.get(str(integration_id)) or self.timeline.get(provider)


def load(session: Session, workspace_id: uuid.UUID) -> MarketingConfig:
    row = session.get(MarketingSettings, workspace_id)
    return MarketingConfig.model_validate(row.settings if row else {})


def save(session: Session, workspace_id: uuid.UUID, config: MarketingConfig) -> MarketingConfig:
    row = session.get(MarketingSettings, workspace_id)
    if row is None:
        row = MarketingSettings(workspace_id=workspace_id)
        session.add(row)
    row.settings = config.model_dump(mode="json", exclude_defaults=True)
    row.updated_at = datetime.now(UTC)
    session.flush()
    return config
