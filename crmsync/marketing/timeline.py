"""Activities on each CRM's timeline: which go where (the policy), when (the schedule)
and how (the push).

An activity is queued as a ``timeline`` SyncJob for every integration whose provider
(or whose own id) has a ``TimelinePolicy`` that sends its type. A policy with an
interval holds its jobs until the next slot (Total Expert: every 15 minutes), so a
slot's activities go out together; the worker claims at most ``CLAIM_LIMIT`` of them at
a time and ``push`` sends them in calls of at most the policy's ``batch_size``. Failed
entries are retried under the policy's ``attempts`` (Total Expert: 3), then dead
letters like any job. Each pushed activity gets a Link (integration, ``timeline``,
activity), so a redelivered job never writes a second entry.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crmsync.connectors.base import TimelineConnector, TimelineEntry
from crmsync.connectors.errors import Action, ConnectorError, InvalidRecord
from crmsync.marketing import settings
from crmsync.marketing.settings import MarketingConfig, TimelinePolicy
from crmsync.store.models import (
    Activity,
    Integration,
    IntegrationStatus,
    Link,
    SyncJob,
    SyncJobStatus,
)
from crmsync.sync import outbox
from crmsync.sync.jobs import Claim, ClaimedJob
from crmsync.sync.policy import on_job_error
from crmsync.sync.push_target import PushCounts, Target
from crmsync.sync.settle import Settlement

__all__ = ["CLAIM_LIMIT", "OBJECT_TYPE", "enqueue", "next_slot", "push"]

OBJECT_TYPE = "timeline"
CLAIM_LIMIT = 50  # one Total Expert batch per claim
# a contact not in the CRM yet: its push is probably queued; look again after this
UNLINKED_WAIT = timedelta(seconds=30)


def next_slot(now: datetime, interval_minutes: int) -> datetime:
    """The next multiple of the interval (now itself for 0): every activity of a window
    becomes due at the same instant and goes out in the same batches."""
    if interval_minutes <= 0:
        return now
    step = interval_minutes * 60
    epoch = int(now.timestamp())
    return datetime.fromtimestamp((epoch // step + 1) * step, tz=UTC)


def enqueue(
    session: Session,
    activity: Activity,
    config: MarketingConfig,
    now: datetime | None = None,
) -> int:
    """Queue ``activity`` for the timelines that want its type; how many jobs."""
    if activity.contact_id is None:
        return 0
    now = now or datetime.now(UTC)
    rows = session.execute(
        select(Integration.id, Integration.provider).where(
            Integration.workspace_id == activity.workspace_id,
            Integration.status != IntegrationStatus.DISABLED,
        )
    )
    queued = 0
    for integration_id, provider in rows:
        policy = config.timeline_for(provider, integration_id)
        if policy is None or not policy.sends(activity.type):
            continue
        queued += outbox.enqueue(
            session,
            activity.workspace_id,
            OBJECT_TYPE,
            [activity.id],
            priority=outbox.Priority.SCHEDULED,
            integrations=[integration_id],
        )
        session.execute(
            update(SyncJob)
            .where(
                SyncJob.integration_id == integration_id,
                SyncJob.object_type == OBJECT_TYPE,
                SyncJob.record_id == activity.id,
                SyncJob.status == SyncJobStatus.PENDING,
            )
            .values(next_attempt_at=next_slot(now, policy.interval_minutes))
            .execution_options(synchronize_session=False)
        )
    return queued


def _policy(session: Session, target: Target) -> TimelinePolicy:
    config = settings.load(session, target.workspace_id)
    found = config.timeline_for(target.connector.provider, target.integration_id)
    return found or TimelinePolicy()


def push(
    session: Session, claim: Claim, target: Target, settlement: Settlement, now: datetime
) -> PushCounts:
    """Send the claimed activities to the integration's timeline."""
    counts = PushCounts(processed=len(claim.jobs))
    connector = target.connector
    policy = _policy(session, target)
    retry = dataclasses.replace(target.retry, attempts=policy.attempts)
    ids = [j.record_id for j in claim.jobs]
    activities = {a.id: a for a in session.scalars(select(Activity).where(Activity.id.in_(ids)))}
    contact_ids = {a.contact_id for a in activities.values() if a.contact_id}
    remote = _remote_ids(session, target.integration_id, "contacts", contact_ids)
    pushed = _remote_ids(session, target.integration_id, OBJECT_TYPE, set(ids))
    sending: list[tuple[ClaimedJob, TimelineEntry]] = []
    for job in claim.jobs:
        activity = activities.get(job.record_id)
        if activity is None or activity.deleted_at is not None or job.record_id in pushed:
            counts.skipped += 1  # gone, or on the timeline already (a redelivered job)
            settlement.succeed(job)
            continue
        if not isinstance(connector, TimelineConnector):
            error = InvalidRecord(f"{connector.provider} has no timeline in crmsync")
            counts.error(job, on_job_error(settlement, job, error, retry, now), error)
            continue
        contact_remote = remote.get(activity.contact_id) if activity.contact_id else None
        if contact_remote is None:
            settlement.requeue(
                job, now + UNLINKED_WAIT, error="the contact is not in the CRM yet",
                error_class="Pending", count_attempt=False,
            )  # fmt: skip
            continue
        kind = "note" if activity.type in policy.as_note else activity.type
        entry = TimelineEntry(
            "contacts",
            contact_remote,
            kind,
            activity.occurred_at,
            subject=activity.subject or "",
            body=activity.body or "",
        )
        sending.append((job, entry))
    if not sending:
        return counts
    assert isinstance(connector, TimelineConnector)
    for start in range(0, len(sending), policy.batch_size):
        chunk = sending[start : start + policy.batch_size]
        try:
            results = connector.push_timeline([e for _j, e in chunk])
        except ConnectorError as error:
            if error.action in (Action.GIVE_UP, Action.WAIT):
                for job, _entry in sending[start + policy.batch_size :]:
                    settlement.requeue(job, now, error=None, error_class=None, count_attempt=False)
                raise  # the worker pauses the integration or waits for the window
            for job, _entry in chunk:
                counts.error(job, on_job_error(settlement, job, error, retry, now), error)
            continue
        for (job, _entry), result in zip(chunk, results, strict=True):
            if result.ok and result.remote_id is not None:
                settlement.link(job.record_id, result.remote_id, "pushed", now)
                settlement.succeed(job)
                counts.succeeded += 1
                continue
            refused = result.error or InvalidRecord("the CRM gave no id for this entry")
            counts.error(job, on_job_error(settlement, job, refused, retry, now), refused)
    return counts


def _remote_ids(
    session: Session, integration_id: uuid.UUID, object_type: str, record_ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not record_ids:
        return {}
    rows = session.execute(
        select(Link.record_id, Link.remote_id).where(
            Link.integration_id == integration_id,
            Link.object_type == object_type,
            Link.record_id.in_(record_ids),
        )
    )
    return {record_id: remote_id for record_id, remote_id in rows}
