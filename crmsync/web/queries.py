"""Read-only queries shaped for the pages (the pipeline board, a contact's links and
history, sync health). Each is bounded by a limit, filters by workspace and uses an index
the store already has; anything that writes goes through the domain services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crmsync.connectors.http.quota import window_of
from crmsync.store.models import (
    Activity,
    Alert,
    AlertStatus,
    ApiKey,
    AutomationRule,
    ChangeLog,
    Conflict,
    ConflictStatus,
    Contact,
    Deal,
    Integration,
    Lead,
    Link,
    SyncRun,
    SyncRunStatus,
    WebhookEndpoint,
)
from crmsync.sync import health
from crmsync.sync.health import ObjectHealth

BOARD_LIMIT = 200  # cards per board; the counts per column stay exact


@dataclass
class Column:
    name: str
    count: int = 0
    cards: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class BoardFilter:
    owner: str | None = None  # an e-mail: CRM owners match users by e-mail
    pipeline: str | None = None
    q: str | None = None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def deals_board(session: Session, workspace_id: uuid.UUID, chosen: BoardFilter) -> list[Column]:
    """Deals by stage, newest first, each with its contact's engagement score."""
    where = [Deal.workspace_id == workspace_id, Deal.deleted_at.is_(None)]
    if chosen.owner:
        where.append(func.lower(Deal.owner) == chosen.owner.lower())
    if chosen.pipeline:
        where.append(Deal.pipeline == chosen.pipeline)
    if chosen.q:
        where.append(Deal.name.ilike(_like(chosen.q), escape="\\"))
    counts = session.execute(
        select(Deal.stage, func.count()).where(*where).group_by(Deal.stage)
    ).all()
    columns = {stage or "(no stage)": Column(stage or "(no stage)", n) for stage, n in counts}
    # the columns a card shows, as rows: no ORM object per card
    rows = session.execute(
        select(
            Deal.name,
            Deal.stage,
            Deal.amount,
            Deal.currency,
            Deal.contact_id,
            Contact.first_name,
            Contact.last_name,
            Contact.engagement_score,
        )
        .outerjoin(Contact, Contact.id == Deal.contact_id)
        .where(*where)
        .order_by(Deal.updated_at.desc(), Deal.id)
        .limit(BOARD_LIMIT)
    ).all()
    for deal in rows:
        columns[deal.stage or "(no stage)"].cards.append(
            {
                "record": deal,
                "contact": _name(deal.first_name, deal.last_name),
                "score": _score(deal.engagement_score),
            }
        )
    return sorted(columns.values(), key=lambda c: c.name)


def leads_board(session: Session, workspace_id: uuid.UUID, chosen: BoardFilter) -> list[Column]:
    """Leads by status, newest first, each with its contact's engagement score."""
    where = [Lead.workspace_id == workspace_id, Lead.deleted_at.is_(None)]
    if chosen.owner:
        where.append(func.lower(Lead.assigned_agent) == chosen.owner.lower())
    if chosen.q:
        pattern = _like(chosen.q)
        where.append(
            Lead.email.ilike(pattern, escape="\\") | Lead.last_name.ilike(pattern, escape="\\")
        )
    counts = session.execute(
        select(Lead.status, func.count()).where(*where).group_by(Lead.status)
    ).all()
    columns = {status: Column(status, n) for status, n in counts}
    rows = session.execute(
        select(
            Lead.status,
            Lead.first_name,
            Lead.last_name,
            Lead.email,
            Lead.source,
            Lead.contact_id,
            Contact.engagement_score,
        )
        .outerjoin(Contact, Contact.id == Lead.contact_id)
        .where(*where)
        .order_by(Lead.updated_at.desc(), Lead.id)
        .limit(BOARD_LIMIT)
    ).all()
    for lead in rows:
        columns[lead.status].cards.append(
            {
                "record": lead,
                "contact": _name(lead.first_name, lead.last_name),
                "score": _score(lead.engagement_score),
            }
        )
    return sorted(columns.values(), key=lambda c: c.name)


def pipelines(session: Session, workspace_id: uuid.UUID) -> list[str]:
    stmt = (
        select(Deal.pipeline)
        .where(Deal.workspace_id == workspace_id, Deal.pipeline.is_not(None))
        .distinct()
        .order_by(Deal.pipeline)
        .limit(100)
    )
    return [p for p in session.scalars(stmt) if p]


def _name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p)


def _score(value: float | None) -> int | None:
    return None if value is None else round(value)


def contacts_page(
    session: Session, workspace_id: uuid.UUID, q: str | None, limit: int = 50
) -> list[Contact]:
    """The most recently changed contacts, or those whose name or e-mail holds ``q``."""
    stmt = select(Contact).where(Contact.workspace_id == workspace_id, Contact.deleted_at.is_(None))
    if q:
        pattern = _like(q)
        stmt = stmt.where(
            Contact.email.ilike(pattern, escape="\\")
            | Contact.first_name.ilike(pattern, escape="\\")
            | Contact.last_name.ilike(pattern, escape="\\")
        )
    stmt = stmt.order_by(Contact.updated_at.desc(), Contact.id).limit(limit)
    return list(session.scalars(stmt))


def links_of(
    session: Session, workspace_id: uuid.UUID, record_id: uuid.UUID
) -> list[tuple[Link, Integration]]:
    stmt = (
        select(Link, Integration)
        .join(Integration, Integration.id == Link.integration_id)
        .where(Link.workspace_id == workspace_id, Link.record_id == record_id)
        .order_by(Integration.name)
    )
    return [(link, integration) for link, integration in session.execute(stmt)]


def timeline(
    session: Session, workspace_id: uuid.UUID, contact_id: uuid.UUID, limit: int = 50
) -> list[Activity]:
    stmt = (
        select(Activity)
        .where(
            Activity.workspace_id == workspace_id,
            Activity.contact_id == contact_id,
            Activity.deleted_at.is_(None),
        )
        .order_by(Activity.occurred_at.desc(), Activity.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def history(
    session: Session, workspace_id: uuid.UUID, record_id: uuid.UUID, limit: int = 50
) -> list[ChangeLog]:
    stmt = (
        select(ChangeLog)
        .where(ChangeLog.record_id == record_id, ChangeLog.workspace_id == workspace_id)
        .order_by(ChangeLog.at.desc(), ChangeLog.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class QuotaRow:
    """One quota window of one integration, as the CRM last reported it."""

    name: str
    used: int
    limit: int
    observed_at: datetime
    window: str  # how it frees up: "rolling 24 h", "daily, resets at midnight (...)"
    resets_at: datetime | None  # by when today's use is gone (None: not known)

    @property
    def share(self) -> float:
        return min(self.used / self.limit, 1.0) if self.limit else 0.0


@dataclass(frozen=True)
class Health:
    integration: Integration
    queued: int
    dead: int
    open_conflicts: int
    last_run: SyncRun | None
    oldest_pending_at: datetime | None  # the lag: how long the oldest waiting job has waited
    shown_status: str = ""  # connected, degraded (a type failing, dead letters today), ...
    objects: list[ObjectHealth] = field(default_factory=list)
    quota: list[QuotaRow] = field(default_factory=list)


def sync_health(
    session: Session, workspace_id: uuid.UUID, now: datetime | None = None
) -> list[Health]:
    """Per integration, and per object type of each: jobs waiting and the lag, dead
    letters, errors of the last 24 h, open conflicts, the last run and the API quota.
    A fixed number of queries, however many integrations the workspace has."""
    now = now or datetime.now(UTC)
    integrations = list(
        session.scalars(
            select(Integration)
            .where(Integration.workspace_id == workspace_id)
            .order_by(Integration.name)
        )
    )
    ids = [i.id for i in integrations]
    if not ids:
        return []
    reports = health.reports(session, integrations, now, steps=False)
    conflicts = dict(
        session.execute(
            select(Conflict.integration_id, func.count())
            .where(Conflict.workspace_id == workspace_id, Conflict.status == ConflictStatus.OPEN)
            .group_by(Conflict.integration_id)
        ).all()
    )
    latest = (
        select(SyncRun.integration_id, func.max(SyncRun.started_at).label("at"))
        .where(SyncRun.integration_id.in_(ids))
        .group_by(SyncRun.integration_id)
        .subquery()
    )
    last_runs: dict[uuid.UUID, SyncRun] = {}
    for run in session.scalars(
        select(SyncRun)
        .join(
            latest,
            (SyncRun.integration_id == latest.c.integration_id)
            & (SyncRun.started_at == latest.c.at),
        )
        .order_by(SyncRun.id)
    ):
        last_runs.setdefault(run.integration_id, run)
    out = []
    for integration, report in zip(integrations, reports, strict=True):
        lags = [o.lag_seconds for o in report.objects if o.pending]
        out.append(
            Health(
                integration,
                sum(o.pending for o in report.objects),
                report.dead_letters,
                int(conflicts.get(integration.id, 0)),
                last_runs.get(integration.id),
                now - timedelta(seconds=max(lags)) if lags else None,
                report.status,
                report.objects,
                [_quota_row(integration.provider, q) for q in report.quota],
            )
        )
    return out


def _quota_row(provider: str, quota: dict[str, Any]) -> QuotaRow:
    window = window_of(provider, quota["name"])
    observed: datetime = quota["observed_at"]
    return QuotaRow(
        quota["name"],
        int(quota["used"]),
        int(quota["limit"]),
        observed,
        window.describe() if window else "not known",
        window.resets_at(observed) if window else None,
    )


def workspace_volume(
    session: Session, workspace_id: uuid.UUID, days: int = 14, now: datetime | None = None
) -> list[tuple[str, int, int]]:
    """Per day of the last ``days``, over every integration of the workspace: records its
    sync runs processed and failed (a run that failed as a whole failed all it
    processed, as the health report counts)."""
    today = (now or datetime.now(UTC)).date()
    since = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), UTC)
    day = func.date(SyncRun.started_at)
    failed = case((SyncRun.status == SyncRunStatus.FAILED, SyncRun.processed), else_=SyncRun.failed)
    rows = session.execute(
        select(day, func.sum(SyncRun.processed), func.sum(failed))
        .where(SyncRun.workspace_id == workspace_id, SyncRun.started_at >= since)
        .group_by(day)
    ).all()
    return _per_day(rows, today, days)


def _per_day(rows: Any, today: date, days: int) -> list[tuple[str, int, int]]:
    found = {str(d)[:10]: (int(p or 0), int(f or 0)) for d, p, f in rows}
    out = []
    for n in range(days):
        label = (today - timedelta(days=days - 1 - n)).isoformat()
        processed, failed = found.get(label, (0, 0))
        out.append((label, processed, failed))
    return out


def api_keys(session: Session, workspace_id: uuid.UUID) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.workspace_id == workspace_id).order_by(ApiKey.created_at)
    return list(session.scalars(stmt))


def automation_rules(session: Session, workspace_id: uuid.UUID) -> list[AutomationRule]:
    stmt = (
        select(AutomationRule)
        .where(AutomationRule.workspace_id == workspace_id)
        .order_by(AutomationRule.name)
    )
    return list(session.scalars(stmt))


def webhook_endpoints(session: Session, workspace_id: uuid.UUID) -> list[WebhookEndpoint]:
    stmt = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.workspace_id == workspace_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return list(session.scalars(stmt))


def hot_contacts(
    session: Session, workspace_id: uuid.UUID, threshold: float, owner: str | None, limit: int = 10
) -> list[Contact]:
    """Engagement alerts: the contacts scoring at or above the model's high threshold."""
    stmt = select(Contact).where(
        Contact.workspace_id == workspace_id,
        Contact.deleted_at.is_(None),
        Contact.engagement_score >= threshold,
    )
    if owner:
        stmt = stmt.where(func.lower(Contact.owner) == owner.lower())
    # highest first, then by id: ix_contacts_engagement read backwards. ``deleted_at`` (null
    # in every row here) is named so that PostgreSQL sees the order is the index's: it
    # does not count ``IS NULL`` as fixing a column, and would sort every match instead
    stmt = stmt.order_by(
        Contact.deleted_at.desc(), Contact.engagement_score.desc(), Contact.id.desc()
    ).limit(limit)
    return list(session.scalars(stmt))


def sync_volume(
    session: Session, integration_id: uuid.UUID, days: int = 14, now: datetime | None = None
) -> list[tuple[str, int, int]]:
    """Per day of the last ``days``: records processed and failed by the integration's runs."""
    today = (now or datetime.now(UTC)).date()
    since = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), UTC)
    day = func.date(SyncRun.started_at)
    rows = session.execute(
        select(day, func.sum(SyncRun.processed), func.sum(SyncRun.failed))
        .where(SyncRun.integration_id == integration_id, SyncRun.started_at >= since)
        .group_by(day)
    ).all()
    return _per_day(rows, today, days)


def open_alerts(session: Session, workspace_id: uuid.UUID, limit: int = 50) -> list[Alert]:
    """Alerts not resolved yet (open or acknowledged), newest first."""
    stmt = (
        select(Alert)
        .where(Alert.workspace_id == workspace_id, Alert.status != AlertStatus.RESOLVED)
        .order_by(Alert.last_seen_at.desc(), Alert.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
