"""The worker's inbound side: polls due by schedule, and polls that webhooks asked for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.connectors.errors import Action
from crmsync.integrations.config import SyncConfig
from crmsync.mapping.direction import Direction
from crmsync.store.models import Integration, IntegrationStatus, SyncRun
from crmsync.sync import object_state
from crmsync.sync.locks import poll_lock
from crmsync.sync.policy import as_connector_error, on_integration_error
from crmsync.sync.polling import PollResult, poll
from crmsync.sync.push_target import Target
from crmsync.sync.schedule import ScheduleError, is_due
from crmsync.sync.webhooks import claim_events, release_events, settle_events

log = structlog.get_logger("crmsync.worker")

INBOUND_KINDS = ("incremental", "full", "webhook", "manual")


@dataclass(frozen=True)
class Busy:
    """Another thread or worker is polling the stream: the request must wait, not drop."""


BUSY = Busy()


def poll_stream(
    session: Session,
    integration: Integration,
    object_type: str,
    target: Target,
    kind: str,
    claim: Callable[[], bool] | None = None,
) -> PollResult | Busy | None:
    """Poll one stream if no one else is: ``BUSY`` when someone is; None when the CRM
    refused, or ``claim`` (called once the lock is held: taking a queued request)
    found nothing left to do."""
    with poll_lock(session.get_bind().engine, integration.id, object_type) as held:
        if not held:
            return BUSY
        if claim is not None and not claim():
            return None
        try:
            result = poll(
                session,
                integration,
                object_type,
                target.connector,
                target.mapping,
                kind=kind,
                region=target.region,
            )
            object_state.succeeded(session, integration.workspace_id, integration.id, object_type)
            session.commit()
            return result
        except Exception as raised:
            # Any exception, not only a CRM's answer: the type backs off and shows
            # failing (degraded) instead of the poll failing silently at every round.
            session.rollback()
            error = as_connector_error(raised)
            log.warning(
                "poll failed",
                integration=str(integration.id),
                object_type=object_type,
                error_class=error.kind,
                error=error.message,
            )
            now = datetime.now(UTC)
            if error.action is not Action.WAIT:
                on_integration_error(integration, error, now, object_type=object_type)
                object_state.failed(
                    session, integration.workspace_id, integration.id, object_type, error, now
                )
                session.commit()
            return None


def last_inbound_run(
    session: Session, integration: Integration, object_type: str
) -> datetime | None:
    return session.scalar(
        select(func.max(SyncRun.started_at)).where(
            SyncRun.integration_id == integration.id,
            SyncRun.direction == Direction.INBOUND,
            SyncRun.object_type == object_type,
            SyncRun.kind.in_(INBOUND_KINDS),
        )
    )


def due_streams(session: Session, now: datetime) -> list[tuple[Integration, str]]:
    """(integration, object type) pairs whose scheduled poll is due."""
    due = []
    for integration in session.scalars(
        select(Integration).where(Integration.status == IntegrationStatus.CONNECTED)
    ):
        try:
            config = SyncConfig.model_validate(integration.config or {})
        except (ValueError, ScheduleError):
            continue  # a broken config is reported by the API; do not poll it
        for object_type in config.objects:
            if not config.pulls(object_type):
                continue
            frequency = config.sync_of(object_type).frequency or config.frequency
            if is_due(frequency, last_inbound_run(session, integration, object_type), now):
                due.append((integration, object_type))
    return due


def drain_webhooks(session: Session, resolve: Callable[[Session, Integration], Target]) -> int:
    """Poll each stream that webhook events arrived for; returns how many events.

    Events of a stream another worker is polling go back unclaimed: that poll may have
    read the CRM before their change, so they must cause a poll of their own."""
    groups = claim_events(session)
    count = 0
    for (integration_id, object_type), ids in groups.items():
        count += len(ids)
        integration = session.get(Integration, integration_id)
        if integration is None or integration.status != IntegrationStatus.CONNECTED:
            settle_events(session, ids, "skipped: integration is not connected")
            continue
        result = poll_stream(
            session, integration, object_type, resolve(session, integration), "webhook"
        )
        if isinstance(result, Busy):
            release_events(session, ids)
            count -= len(ids)
            continue
        outcome = f"polled: {result.processed} change(s)" if result else "left to the next poll"
        settle_events(session, ids, outcome)
    return count
