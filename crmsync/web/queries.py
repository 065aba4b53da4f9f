"""Read-only queries shaped for the pages (the pipeline board, a contact's links and
history, sync health). Each is bounded by a limit, filters by workspace and uses an index
the store already has; anything that writes goes through the domain services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.store.models import (
    Activity,
    Alert,
    ApiKey,
    AutomationRule,
    ChangeLog,
    Conflict,
    Contact,
    Deal,
    Integration,
    Lead,
    Link,
    SyncJob,
    SyncJobStatus,
    SyncRun,
    WebhookEndpoint,
)

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
    rows = session.execute(
        select(Deal, Contact.first_name, Contact.last_name, Contact.engagement_score)
        .outerjoin(Contact, Contact.id == Deal.contact_id)
        .where(*where)
        .order_by(Deal.updated_at.desc(), Deal.id)
        .limit(BOARD_LIMIT)
    ).all()
    for deal, first, last, score in rows:
        columns[deal.stage or "(no stage)"].cards.append(
            {"record": deal, "contact": _name(first, last), "score": _score(score)}
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
        select(Lead, Contact.engagement_score)
        .outerjoin(Contact, Contact.id == Lead.contact_id)
        .where(*where)
        .order_by(Lead.updated_at.desc(), Lead.id)
        .limit(BOARD_LIMIT)
    ).all()
    for lead, score in rows:
        columns[lead.status].cards.append(
            {
                "record": lead,
                "contact": _name(lead.first_name, lead.last_name),
                "score": _score(score),
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
class Health:
    integration: Integration
    queued: int
    dead: int
    open_conflicts: int
    last_run: SyncRun | None
    oldest_pending_at: datetime | None  # the lag: how long the oldest waiting job has waited


def sync_health(session: Session, workspace_id: uuid.UUID) -> list[Health]:
    """Per integration: jobs waiting, dead letters, open conflicts and the last run."""
    integrations = list(
        session.scalars(
            select(Integration)
            .where(Integration.workspace_id == workspace_id)
            .order_by(Integration.name)
        )
    )
    ids = [i.id for i in integrations]
    jobs: dict[tuple[uuid.UUID, str], int] = {
        (i, s): n
        for i, s, n in session.execute(
            select(SyncJob.integration_id, SyncJob.status, func.count())
            .where(
                SyncJob.integration_id.in_(ids),
                SyncJob.status.in_(
                    (SyncJobStatus.PENDING, SyncJobStatus.RUNNING, SyncJobStatus.DEAD)
                ),
            )
            .group_by(SyncJob.integration_id, SyncJob.status)
        )
    }
    oldest = dict(
        session.execute(
            select(SyncJob.integration_id, func.min(SyncJob.enqueued_at))
            .where(SyncJob.integration_id.in_(ids), SyncJob.status == SyncJobStatus.PENDING)
            .group_by(SyncJob.integration_id)
        ).all()
    )
    conflicts = dict(
        session.execute(
            select(Conflict.integration_id, func.count())
            .where(Conflict.workspace_id == workspace_id, Conflict.status == "open")
            .group_by(Conflict.integration_id)
        ).all()
    )
    out = []
    for integration in integrations:
        last = session.scalar(
            select(SyncRun)
            .where(SyncRun.integration_id == integration.id)
            .order_by(SyncRun.started_at.desc())
            .limit(1)
        )
        out.append(
            Health(
                integration,
                jobs.get((integration.id, SyncJobStatus.PENDING), 0)
                + jobs.get((integration.id, SyncJobStatus.RUNNING), 0),
                jobs.get((integration.id, SyncJobStatus.DEAD), 0),
                int(conflicts.get(integration.id, 0)),
                last,
                oldest.get(integration.id),
            )
        )
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
    stmt = stmt.order_by(Contact.engagement_score.desc(), Contact.id).limit(limit)
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
    found = {str(d)[:10]: (int(p or 0), int(f or 0)) for d, p, f in rows}
    out = []
    for n in range(days):
        label = (today - timedelta(days=days - 1 - n)).isoformat()
        processed, failed = found.get(label, (0, 0))
        out.append((label, processed, failed))
    return out


def open_alerts(session: Session, workspace_id: uuid.UUID, limit: int = 50) -> list[Alert]:
    """Alerts not resolved yet (open or acknowledged), newest first."""
    stmt = (
        select(Alert)
        .where(Alert.workspace_id == workspace_id, Alert.status != "resolved")
        .order_by(Alert.last_seen_at.desc(), Alert.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
