"""Attribution reports, per-record attribution and its write-back to the records.

Services take the caller's session and never commit. The write-back goes through the
records service, so the attributed fields get their ChangeLog rows and sync jobs and reach
every CRM whose mapping carries them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np
from sqlalchemy.orm import Session

from crmsync.marketing.attribution.conversions import Kind
from crmsync.marketing.attribution.credit import Model
from crmsync.marketing.attribution.paths import GroupBy, load
from crmsync.marketing.attribution.report import (
    Report,
    attribute,
    conversion_weights,
    removal_effects,
)
from crmsync.records import service as records

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
FAR: Final = datetime(9999, 1, 1, tzinfo=UTC)
# The custom fields the write-back sets on a lead (map them to CRM fields to sync them).
FIRST_TOUCH, LAST_TOUCH, CAMPAIGN = "first_touch_source", "last_touch_source", "attributed_campaign"
SOURCE: Final = "attribution"


@dataclass(frozen=True)
class Options:
    model: Model = Model.LINEAR
    kind: Kind = Kind.LEAD_CREATED
    start: datetime = EPOCH
    end: datetime = FAR
    group_by: GroupBy = GroupBy.CHANNEL
    half_life_days: float = 7.0
    lookback_days: float = 90.0


def report(session: Session, workspace_id: uuid.UUID, options: Options) -> Report:
    dataset = load(
        session,
        workspace_id,
        options.kind,
        options.start,
        options.end,
        options.group_by,
        options.lookback_days,
        converted_only=options.model is not Model.MARKOV,  # only Markov learns from the rest
    )
    return attribute(dataset, options.model, half_life_days=options.half_life_days)


@dataclass(frozen=True)
class Credit:
    touchpoint_id: uuid.UUID
    at: datetime
    channel: str
    platform: str
    campaign: str
    weight: float


@dataclass(frozen=True)
class RecordAttribution:
    record_id: uuid.UUID
    converted_at: datetime
    value: float
    credits: list[Credit]

    @property
    def first_touch(self) -> str | None:
        return _source(self.credits[0]) if self.credits else None

    @property
    def last_touch(self) -> str | None:
        return _source(self.credits[-1]) if self.credits else None

    @property
    def campaign(self) -> str | None:
        totals: dict[str, float] = {}
        for credit in self.credits:
            totals[credit.campaign] = totals.get(credit.campaign, 0.0) + credit.weight
        named = {k: v for k, v in totals.items() if k != "(none)"}
        return max(sorted(named), key=lambda k: named[k]) if named else None


def _source(credit: Credit) -> str:
    return credit.platform if credit.platform != "(none)" else credit.channel


def record_attributions(
    session: Session,
    workspace_id: uuid.UUID,
    kind: Kind,
    record_ids: list[uuid.UUID],
    options: Options,
) -> dict[uuid.UUID, RecordAttribution]:
    """The attribution of each given lead or deal that has converted (others are absent)."""
    by = {
        group: load(
            session,
            workspace_id,
            kind,
            EPOCH,
            FAR,
            group,
            options.lookback_days,
            record_ids,
        )
        for group in GroupBy
    }
    channel_labels = by[GroupBy.CHANNEL].labels
    effects = None
    if options.model is Model.MARKOV:  # learnt from every conversion, not only these
        full = load(session, workspace_id, kind, EPOCH, FAR, GroupBy.CHANNEL, options.lookback_days)
        learnt = dict(zip(full.labels, removal_effects(full), strict=True))
        effects = np.array([learnt.get(label, 0.0) for label in channel_labels])
    out: dict[uuid.UUID, RecordAttribution] = {}
    paths = zip(*(by[g].converted for g in GroupBy), strict=True)
    for channel_path, platform_path, campaign_path in paths:
        conversion = channel_path.conversion
        weights = conversion_weights(
            channel_path, options.model, half_life_days=options.half_life_days, effects=effects
        )
        credits = [
            Credit(
                touch_id,
                at.replace(tzinfo=UTC),
                channel_labels[c],
                by[GroupBy.PLATFORM].labels[p],
                by[GroupBy.CAMPAIGN].labels[m],
                w,
            )
            for touch_id, at, c, p, m, w in zip(
                channel_path.touch_ids,
                channel_path.times,
                channel_path.labels,
                platform_path.labels,
                campaign_path.labels,
                weights,
                strict=True,
            )
        ]
        out[conversion.record_id] = RecordAttribution(
            conversion.record_id, conversion.at, conversion.value, credits
        )
    return out


@dataclass(frozen=True)
class WriteBack:
    lead_id: uuid.UUID
    fields: dict[str, str | None]
    status: str  # "updated" · "unchanged" · "not_found"


def write_back(
    session: Session, workspace_id: uuid.UUID, lead_ids: list[uuid.UUID], options: Options
) -> list[WriteBack]:
    """Set each lead's first/last touch source and attributed campaign (custom fields)."""
    found = record_attributions(session, workspace_id, Kind.LEAD_CREATED, lead_ids, options)
    results: list[WriteBack] = []
    for lead_id in lead_ids:
        attribution = found.get(lead_id)
        if attribution is None:
            results.append(WriteBack(lead_id, {}, "not_found"))
            continue
        fields = {
            FIRST_TOUCH: attribution.first_touch,
            LAST_TOUCH: attribution.last_touch,
            CAMPAIGN: attribution.campaign,
        }
        lead = records.get_record(session, workspace_id, "leads", lead_id)
        current = dict(lead.custom_fields or {})
        if all(current.get(k) == v for k, v in fields.items()):
            results.append(WriteBack(lead_id, fields, "unchanged"))
            continue
        records.update_record(
            session, workspace_id, "leads", lead_id, {"custom_fields": current | fields}, SOURCE
        )
        results.append(WriteBack(lead_id, fields, "updated"))
    return results
