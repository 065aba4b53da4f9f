"""Paths: each conversion with the touches that led to it, and the people who never converted.

A touch belongs to a person: its contact, else its lead's contact, else the lead. A
conversion's path is its person's touches in the lookback window before it (at or before
the conversion time). People with touches in the period and no conversion give the
non-converting paths the Markov model needs.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.marketing.attribution.conversions import Conversion, Kind, conversions
from crmsync.store.models import Campaign, Lead, Touchpoint

NONE_LABEL = "(none)"


class GroupBy(StrEnum):
    CHANNEL = "channel"
    PLATFORM = "platform"
    CAMPAIGN = "campaign"


@dataclass
class Touches:
    """One person's touches, oldest first: times, and an index into ``Dataset.labels``."""

    times: list[datetime] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    ids: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True)
class ConversionPath:
    conversion: Conversion
    times: list[datetime]
    labels: list[int]
    touch_ids: list[uuid.UUID]


@dataclass
class Dataset:
    labels: list[str]
    converted: list[ConversionPath]
    #: Label sequences of the people who did not convert in the period.
    not_converted: list[list[int]]


def load(
    session: Session,
    workspace_id: uuid.UUID,
    kind: Kind,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    lookback_days: float = 90.0,
    record_ids: list[uuid.UUID] | None = None,
) -> Dataset:
    found = conversions(session, workspace_id, kind, start, end, record_ids)
    lookback = timedelta(days=lookback_days)
    people = None if record_ids is None else {c.person for c in found if c.person}
    touches, labels = _touches(session, workspace_id, start - lookback, end, group_by, people)
    converted: list[ConversionPath] = []
    converters: set[uuid.UUID] = set()
    for conversion in found:
        mine = touches.get(conversion.person) if conversion.person else None
        if mine is None:
            converted.append(ConversionPath(conversion, [], [], []))
            continue
        converters.add(conversion.person)  # type: ignore[arg-type]
        lo = bisect_left(mine.times, conversion.at - lookback)
        hi = bisect_right(mine.times, conversion.at)
        converted.append(
            ConversionPath(conversion, mine.times[lo:hi], mine.labels[lo:hi], mine.ids[lo:hi])
        )
    not_converted = [
        t.labels[bisect_left(t.times, start) :]
        for person, t in touches.items()
        if person not in converters
    ]
    return Dataset(labels, converted, [p for p in not_converted if p])


def _touches(
    session: Session,
    workspace_id: uuid.UUID,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    people: set[uuid.UUID] | None,
) -> tuple[dict[uuid.UUID, Touches], list[str]]:
    lead_contacts: dict[uuid.UUID, uuid.UUID | None] = {
        lead_id: contact_id
        for lead_id, contact_id in session.execute(
            select(Lead.id, Lead.contact_id).where(
                Lead.workspace_id == workspace_id, Lead.contact_id.is_not(None)
            )
        )
    }
    if group_by is GroupBy.CAMPAIGN:
        column = [Campaign.name, Touchpoint.utm_campaign]
    elif group_by is GroupBy.PLATFORM:
        column = [Touchpoint.platform]
    else:
        column = [Touchpoint.channel]
    stmt = (
        select(Touchpoint.id, Touchpoint.contact_id, Touchpoint.lead_id, Touchpoint.occurred_at)
        .add_columns(*column)
        .where(
            Touchpoint.workspace_id == workspace_id,
            Touchpoint.occurred_at >= start,
            Touchpoint.occurred_at < end,
        )
        .order_by(Touchpoint.occurred_at, Touchpoint.id)
    )
    if group_by is GroupBy.CAMPAIGN:
        stmt = stmt.outerjoin(Campaign, Campaign.id == Touchpoint.campaign_id)
    index: dict[str, int] = {}
    labels: list[str] = []
    out: dict[uuid.UUID, Touches] = defaultdict(Touches)
    for row in session.execute(stmt):
        touch_id, contact_id, lead_id, at, *names = row
        person = contact_id or lead_contacts.get(lead_id) or lead_id
        if person is None or (people is not None and person not in people):
            continue
        label = next((n for n in names if n), NONE_LABEL)
        code = index.get(label)
        if code is None:
            code = index[label] = len(labels)
            labels.append(label)
        mine = out[person]
        mine.times.append(at)
        mine.labels.append(code)
        mine.ids.append(touch_id)
    return dict(out), labels
