"""The admin dashboard's figures: journey performance over a date range, and contact
statistics (total, new this month, how engagement is spread)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, ScalarSelect, func, select
from sqlalchemy.orm import Session

from crmsync.store.models import Contact, Enrollment, Journey

__all__ = ["BUCKETS", "JourneyPerformance", "contact_stats", "journey_performance"]

BUCKETS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 101))


@dataclass
class JourneyPerformance:
    journey_id: uuid.UUID
    name: str
    integration_id: uuid.UUID
    enrollments: int = 0
    active: int = 0
    completed: int = 0
    unenrolled: int = 0
    completion_rate: float = 0.0
    avg_seconds_to_complete: float | None = None
    by_trigger: dict[str, int] = field(default_factory=dict)


def journey_performance(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    journey_id: uuid.UUID | None = None,
) -> list[JourneyPerformance]:
    """Per journey, the enrolments made in [start, end) and what became of them."""
    journeys = select(Journey).where(Journey.workspace_id == workspace_id)
    if journey_id is not None:
        journeys = journeys.where(Journey.id == journey_id)
    out = {
        j.id: JourneyPerformance(j.id, j.name, j.integration_id)
        for j in session.scalars(journeys.order_by(Journey.name))
    }
    query = select(
        Enrollment.journey_id,
        Enrollment.status,
        Enrollment.trigger,
        Enrollment.enrolled_at,
        Enrollment.ended_at,
    ).where(Enrollment.workspace_id == workspace_id, Enrollment.journey_id.in_(list(out)))
    if start is not None:
        query = query.where(Enrollment.enrolled_at >= start)
    if end is not None:
        query = query.where(Enrollment.enrolled_at < end)
    durations: dict[uuid.UUID, list[float]] = {}
    triggers: dict[uuid.UUID, Counter[str]] = {}
    for jid, status, trigger, enrolled_at, ended_at in session.execute(query):
        perf = out[jid]
        perf.enrollments += 1
        if status == "active":
            perf.active += 1
        elif status == "completed":
            perf.completed += 1
            if ended_at is not None:
                durations.setdefault(jid, []).append((ended_at - enrolled_at).total_seconds())
        else:
            perf.unenrolled += 1
        triggers.setdefault(jid, Counter())[trigger] += 1
    for jid, perf in out.items():
        if perf.enrollments:
            perf.completion_rate = round(perf.completed / perf.enrollments, 4)
        if durations.get(jid):
            perf.avg_seconds_to_complete = round(sum(durations[jid]) / len(durations[jid]), 1)
        perf.by_trigger = dict(sorted(triggers.get(jid, Counter()).items()))
    return list(out.values())


def contact_stats(
    session: Session, workspace_id: uuid.UUID, *, now: datetime | None = None
) -> dict[str, object]:
    """Total, new this month and the engagement spread of the workspace's contacts.

    One statement of range counts, each read from an index alone (``ix_contacts_engagement``
    and ``ix_contacts_created``, both led by workspace and ``deleted_at``): a count per
    bucket, the scored and unscored contacts, the scores' sum. No row of the table is
    read, and no expression is evaluated per contact."""
    now = now or datetime.now(UTC)
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    score = Contact.engagement_score
    alive = (Contact.workspace_id == workspace_id, Contact.deleted_at.is_(None))

    def count(*where: ColumnElement[bool]) -> ScalarSelect[int]:
        return select(func.count()).where(*alive, *where).scalar_subquery()

    lowest, highest = BUCKETS[0][0], BUCKETS[-1][1]
    row = session.execute(
        select(
            select(func.sum(score)).where(*alive, score.is_not(None)).scalar_subquery(),
            count(score.is_(None)),
            count(score < lowest),
            count(score >= highest),
            count(Contact.created_at >= month),
            *(count(score >= low, score < high) for low, high in BUCKETS),
        )
    ).one()
    total_score, unscored, below, above, new, *buckets = row
    # the buckets and the two ranges beside them hold every scored contact once
    scored = sum(int(n or 0) for n in (below, above, *buckets))
    unscored = int(unscored or 0)
    return {
        "total": scored + unscored,
        "new_this_month": int(new or 0),
        "engagement": {
            "average": round(float(total_score) / scored, 2) if scored else None,
            "unscored": unscored,
            "buckets": [
                {"from": low, "to": min(high, 100), "contacts": int(n or 0)}
                for (low, high), n in zip(BUCKETS, buckets, strict=True)
            ],
        },
    }
