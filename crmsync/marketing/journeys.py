"""The journey catalogue: journeys, workflows and campaigns read from each CRM that
has them, kept in ``journeys`` and refreshed when older than the workspace's cache
time (4 hours by default) or on demand.

The caller gives ``connector_of`` (the sync engine's connector cache): services never
build connectors. A CRM that fails to answer leaves its journeys as they were (its
error is reported), so a refresh never empties the catalogue.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.connectors.base import Connector
from crmsync.connectors.base import Journey as RemoteJourney
from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.journeys import EnrollmentConnector
from crmsync.marketing import settings
from crmsync.marketing.errors import JourneyNotFound
from crmsync.store.models import Integration, IntegrationStatus, Journey

__all__ = ["ConnectorOf", "Refresh", "get_journey", "list_journeys", "refresh"]

log = structlog.get_logger("crmsync.marketing")

ConnectorOf = Callable[[Integration], Connector]


@dataclass
class Refresh:
    """What a refresh did, per integration."""

    refreshed: dict[str, int] = field(default_factory=dict)  # integration id -> journeys
    fresh: list[str] = field(default_factory=list)  # still within the cache time
    errors: dict[str, str] = field(default_factory=dict)


def _stale(session: Session, integration_id: uuid.UUID, older_than: datetime) -> bool:
    newest = session.scalar(
        select(func.max(Journey.refreshed_at)).where(Journey.integration_id == integration_id)
    )
    return newest is None or newest < older_than


def refresh(
    session: Session,
    workspace_id: uuid.UUID,
    connector_of: ConnectorOf,
    *,
    integration_id: uuid.UUID | None = None,
    force: bool = False,
    now: datetime | None = None,
) -> Refresh:
    """Read the journeys of the workspace's CRMs that are due (all of them with ``force``)."""
    now = now or datetime.now(UTC)
    cache = timedelta(minutes=settings.load(session, workspace_id).journey_cache_minutes)
    query = select(Integration).where(
        Integration.workspace_id == workspace_id, Integration.status == IntegrationStatus.CONNECTED
    )
    if integration_id is not None:
        query = query.where(Integration.id == integration_id)
    report = Refresh()
    for integration in session.scalars(query).all():
        key = str(integration.id)
        if not force and not _stale(session, integration.id, now - cache):
            report.fresh.append(key)
            continue
        try:
            connector = connector_of(integration)
            if not isinstance(connector, EnrollmentConnector):
                continue
            remote = connector.journeys()
        except ConnectorError as error:
            log.warning("journey refresh failed", integration=key, error=error.message)
            report.errors[key] = error.message
            continue
        report.refreshed[key] = _store(session, integration, remote, now)
    session.flush()
    return report


def _store(
    session: Session, integration: Integration, remote: list[RemoteJourney], now: datetime
) -> int:
    known = {
        j.remote_id: j
        for j in session.scalars(select(Journey).where(Journey.integration_id == integration.id))
    }
    for item in remote:
        row = known.pop(item.remote_id, None)
        if row is None:
            row = Journey(
                workspace_id=integration.workspace_id,
                integration_id=integration.id,
                remote_id=item.remote_id,
            )
            session.add(row)
        row.name = item.name
        row.description = item.description
        row.category = item.category
        row.trigger_type = item.trigger
        row.active = item.active
        row.steps = [dict(s) for s in item.steps]
        row.remote_enrollment_count = item.enrollment_count
        row.remote_completion_rate = item.completion_rate
        row.refreshed_at = now
        row.removed_at = None
    for gone in known.values():  # kept for the enrolments that point at it
        gone.removed_at = gone.removed_at or now
        gone.active = False
        gone.refreshed_at = now
    return len(remote)


def list_journeys(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    integration_id: uuid.UUID | None = None,
    active: bool | None = None,
    trigger_type: str | None = None,
    category: str | None = None,
    include_removed: bool = False,
) -> list[Journey]:
    query = select(Journey).where(Journey.workspace_id == workspace_id)
    if integration_id is not None:
        query = query.where(Journey.integration_id == integration_id)
    if active is not None:
        query = query.where(Journey.active.is_(active))
    if trigger_type is not None:
        query = query.where(Journey.trigger_type == trigger_type)
    if category is not None:
        query = query.where(Journey.category == category)
    if not include_removed:
        query = query.where(Journey.removed_at.is_(None))
    return list(session.scalars(query.order_by(Journey.name, Journey.id)))


def get_journey(session: Session, workspace_id: uuid.UUID, journey_id: uuid.UUID) -> Journey:
    journey = session.get(Journey, journey_id)
    if journey is None or journey.workspace_id != workspace_id:
        raise JourneyNotFound(f"no journey with id {journey_id}")
    return journey
