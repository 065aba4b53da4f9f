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
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import String, cast, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from crmsync.marketing.attribution.conversions import (
    Conversion,
    Kind,
    as_uuid,
    conversion_rows,
    oldest_first,
)
from crmsync.store.models import Campaign, Lead, Touchpoint

NONE_LABEL = "(none)"


class GroupBy(StrEnum):
    CHANNEL = "channel"
    PLATFORM = "platform"
    CAMPAIGN = "campaign"


@dataclass
class Touches:
    """One person's touches, oldest first: times, an index into ``Dataset.labels`` and
    (when asked for) the touchpoints' ids.

    Times are naive UTC: a million touches are compared and subtracted, and aware
    datetimes cost a conversion each on the way out of the database.
    """

    times: list[datetime] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    ids: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True)
class ConversionPath:
    conversion: Conversion
    times: list[datetime]  # naive UTC, as ``Touches``
    labels: list[int]
    touch_ids: list[uuid.UUID]


@dataclass
class Dataset:
    labels: list[str]
    converted: list[ConversionPath]
    #: Label sequences of the people who did not convert in the period.
    not_converted: list[list[int]]
    #: Conversions not in ``converted``: their person had no touch at all (so they are
    #: credited to ``(direct)``), and their value.
    direct: int = 0
    direct_value: float = 0.0

    @property
    def conversions(self) -> int:
        return len(self.converted) + self.direct


def load(
    session: Session,
    workspace_id: uuid.UUID,
    kind: Kind,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    lookback_days: float = 90.0,
    record_ids: list[uuid.UUID] | None = None,
    *,
    converted_only: bool = False,
) -> Dataset:
    """The paths of the conversions in [start, end) (only ``record_ids``: then with touch
    ids, and every conversion listed). A report's conversions whose person has no touch at
    all from ``start`` minus the lookback to ``end`` are counted (``Dataset.direct``), not
    listed: most conversions of a workspace may have none, and listing them was most of a
    report's time. ``converted_only`` leaves out the touches of people who did not
    convert (``not_converted`` stays empty): the rule models never read them, and they
    may be most of a workspace's touches."""
    rows = conversion_rows(session, workspace_id, kind, start, end, record_ids)
    lookback = timedelta(days=lookback_days)
    people = None
    if record_ids is not None or converted_only:
        people = {person for _, person, _, _ in rows if person}
    with_ids = record_ids is not None  # a report needs no touch ids: they cost a UUID each
    touches, labels = _touches(
        session, workspace_id, start - lookback, end, group_by, people, with_ids
    )
    converted: list[ConversionPath] = []
    converters: set[Hashable] = set()
    direct, direct_value = 0, 0.0
    for record, person, converted_at, value in rows:
        mine = touches.get(person) if person else None
        if mine is None and not with_ids:
            direct += 1
            direct_value += value
            continue
        conversion = Conversion(
            kind, as_uuid(record), person, converted_at.replace(tzinfo=UTC), value
        )
        if mine is None:
            converted.append(ConversionPath(conversion, [], [], []))
            continue
        converters.add(person)
        lo = bisect_left(mine.times, converted_at - lookback)
        hi = bisect_right(mine.times, converted_at)
        ids = mine.ids[lo:hi] if with_ids else []
        converted.append(ConversionPath(conversion, mine.times[lo:hi], mine.labels[lo:hi], ids))
    converted.sort(key=lambda path: oldest_first(path.conversion))
    first = start.astimezone(UTC).replace(tzinfo=None)
    not_converted = [
        t.labels[bisect_left(t.times, first) :]
        for person, t in touches.items()
        if person not in converters
    ]
    return Dataset(labels, converted, [p for p in not_converted if p], direct, direct_value)


def _touches(
    session: Session,
    workspace_id: uuid.UUID,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    people: set[Hashable] | None,
    with_ids: bool,
) -> tuple[dict[Hashable, Touches], list[str]]:
    if group_by is GroupBy.CAMPAIGN:
        label_of: Any = func.coalesce(Campaign.name, Touchpoint.utm_campaign)
    elif group_by is GroupBy.PLATFORM:
        label_of = Touchpoint.platform
    else:
        label_of = Touchpoint.channel
    sqlite = session.get_bind().dialect.name == "sqlite"
    touch_id = Touchpoint.id if with_ids else literal(None)
    stmt = (
        select(
            touch_id,
            # its contact, else its lead's contact, else its lead (a touch of a lead
            # with no contact); COALESCE looks the lead up only for touches with no contact
            cast(
                func.coalesce(
                    Touchpoint.contact_id,
                    select(Lead.contact_id)
                    .where(Lead.id == Touchpoint.lead_id, Lead.workspace_id == workspace_id)
                    .scalar_subquery(),
                    Touchpoint.lead_id,
                ),
                String(),
            ).label("person"),  # text, as ``person_key`` reads a conversion's person
            # SQLite's stored text parses far faster with fromisoformat than through the
            # column type; both give naive UTC (see ``Touches``).
            type_coerce(Touchpoint.occurred_at, String()) if sqlite else Touchpoint.occurred_at,
            label_of,
        )
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
    out: dict[Hashable, Touches] = defaultdict(Touches)
    parse = datetime.fromisoformat
    for touch_id, person, at, name in session.connection().execute(stmt):
        if person is None or (people is not None and person not in people):
            continue
        at = parse(at) if sqlite else at.astimezone(UTC).replace(tzinfo=None)
        label = name or NONE_LABEL
        code = index.get(label)
        if code is None:
            code = index[label] = len(labels)
            labels.append(label)
        mine = out[person]
        mine.times.append(at)
        mine.labels.append(code)
        if with_ids:
            mine.ids.append(touch_id)
    return dict(out), labels
