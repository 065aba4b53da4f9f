"""Engagement the CRMs report (Total Expert: e-mails opened and clicked, texts replied
to), brought in as activities so that one model scores everything.

For a contact, at most once per the model's ``crm_cache_minutes`` (one hour by
default), every connected CRM that reports engagement (``EngagementConnector``) and
knows the contact is asked; each interaction not seen before becomes an ``Activity``
(source ``crm:<integration>``, ``external_ref`` ``crm:<integration>:<remote id>``, so a
second read adds nothing) and goes into the score like an app event's. These
activities do not go back to the CRM that reported them (no echo: neither the record
sync nor the timeline). A CRM that fails leaves the score as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import Connector
from crmsync.connectors.engagement import EngagementConnector, RemoteInteraction
from crmsync.connectors.errors import ConnectorError
from crmsync.marketing import engagement_service, settings
from crmsync.records.service import create_record
from crmsync.store.models import Activity, EngagementState, Integration, IntegrationStatus, Link

__all__ = ["pull"]

log = structlog.get_logger("crmsync.marketing")


def _due(row: EngagementState | None, cache: timedelta, now: datetime) -> bool:
    return row is None or row.crm_checked_at is None or now - row.crm_checked_at >= cache


def pull(
    session: Session,
    workspace_id: uuid.UUID,
    contact_id: uuid.UUID,
    connector_of: Callable[[Integration], Connector],
    *,
    now: datetime | None = None,
) -> int:
    """Bring in the contact's CRM-reported engagement if its cache has expired; how
    many new interactions. Callers commit."""
    now = now or datetime.now(UTC)
    model = settings.load(session, workspace_id).engagement
    if not _due(
        session.get(EngagementState, contact_id), timedelta(minutes=model.crm_cache_minutes), now
    ):
        return 0
    linked = session.execute(
        select(Integration, Link.remote_id)
        .join(Link, Link.integration_id == Integration.id)
        .where(
            Integration.workspace_id == workspace_id,
            Integration.status == IntegrationStatus.CONNECTED,
            Link.object_type == "contacts",
            Link.record_id == contact_id,
        )
    ).all()
    added = 0
    for integration, remote_id in linked:
        try:
            connector = connector_of(integration)
            if not isinstance(connector, EngagementConnector):
                continue
            found = connector.interactions(remote_id)
        except ConnectorError as error:
            log.warning(
                "crm engagement read failed", integration=str(integration.id), error=error.message
            )
            continue
        for item in found:
            added += _add(session, workspace_id, contact_id, integration.id, item, model, now)
    row = session.get(EngagementState, contact_id)
    if row is None:  # nothing scored yet: an empty state records the check
        engagement_service.ensure_state(session, workspace_id, contact_id, now)
        row = session.get(EngagementState, contact_id)
    assert row is not None
    row.crm_checked_at = now
    session.flush()
    return added


def _add(
    session: Session,
    workspace_id: uuid.UUID,
    contact_id: uuid.UUID,
    integration_id: uuid.UUID,
    item: RemoteInteraction,
    model: settings.EngagementModel,
    now: datetime,
) -> int:
    ref = f"crm:{integration_id}:{item.remote_id}"[:255]
    seen = session.scalar(
        select(Activity.id).where(
            Activity.workspace_id == workspace_id, Activity.external_ref == ref
        )
    )
    if seen is not None:
        return 0
    payload = {
        "external_ref": ref,
        "type": item.type,
        "direction": item.direction,
        "subject": item.subject or None,
        "occurred_at": item.occurred_at.isoformat(),
        "contact_id": str(contact_id),
        "data": {"reported_by": str(integration_id)},
    }
    created = create_record(
        session, workspace_id, "activities", payload, source=f"crm:{integration_id}"
    )
    engagement_service.apply_activity(
        session, workspace_id, contact_id, created.type, created.occurred_at,  # type: ignore[attr-defined]
        direction=item.direction, model=model, now=now,
    )  # fmt: skip
    return 1
