"""Push enrolments to their CRM: the worker's handler for ``enrollments`` jobs.

The CRM is made to match each enrolment's current state: an active one is enrolled
(once: its Link says it is, and the CRM's own enrolment is idempotent besides), an
ended one is taken out if it was ever enrolled. A contact that Total Expert does not
know yet (its own push is still queued) waits without spending an attempt; other errors
follow the engine's table (``sync.policy``): retries with backoff, then dead letters.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.errors import Action, ConnectorError, InvalidRecord
from crmsync.connectors.journeys import EnrollmentConnector, EnrollTarget
from crmsync.marketing.enrollments import OBJECT_TYPE
from crmsync.store.models import (
    Contact,
    Enrollment,
    EnrollmentStatus,
    Journey,
    Link,
    SyncJob,
    SyncJobStatus,
)
from crmsync.sync.jobs import Claim, ClaimedJob
from crmsync.sync.policy import on_job_error
from crmsync.sync.push_target import PushCounts, Target
from crmsync.sync.settle import Settlement

__all__ = ["CLAIM_LIMIT", "push"]

CLAIM_LIMIT = 50
CONTACT_WAIT = timedelta(seconds=2)


def _contact_pending(session: Session, integration_id: uuid.UUID, contact_id: uuid.UUID) -> bool:
    return (
        session.scalar(
            select(SyncJob.id)
            .where(
                SyncJob.integration_id == integration_id,
                SyncJob.object_type == "contacts",
                SyncJob.record_id == contact_id,
                SyncJob.status.in_((SyncJobStatus.PENDING, SyncJobStatus.RUNNING)),
            )
            .limit(1)
        )
        is not None
    )


def push(
    session: Session, claim: Claim, target: Target, settlement: Settlement, now: datetime
) -> PushCounts:
    counts = PushCounts(processed=len(claim.jobs))
    connector = target.connector
    ids = [j.record_id for j in claim.jobs]
    rows = session.execute(
        select(Enrollment, Journey, Contact)
        .join(Journey, Journey.id == Enrollment.journey_id)
        .join(Contact, Contact.id == Enrollment.contact_id)
        .where(Enrollment.id.in_(ids))
    )
    found = {e.id: (e, j, c) for e, j, c in rows}
    links = {
        link.record_id: link
        for link in session.scalars(
            select(Link).where(
                Link.integration_id == target.integration_id,
                Link.object_type.in_((OBJECT_TYPE, "contacts")),
                Link.record_id.in_([*ids, *(c.id for _e, _j, c in found.values())]),
            )
        )
    }
    for job in claim.jobs:
        item = found.get(job.record_id)
        if item is None:
            counts.skipped += 1
            settlement.succeed(job)
            continue
        if not isinstance(connector, EnrollmentConnector):
            error = InvalidRecord(f"{connector.provider} takes no enrolments through crmsync")
            counts.error(job, on_job_error(settlement, job, error, target.retry, now), error)
            continue
        try:
            _one(session, connector, target, job, item, links, settlement, counts, now)
        except ConnectorError as error:
            if error.action in (Action.GIVE_UP, Action.WAIT):
                raise  # the worker pauses the integration or waits; open jobs go back
            counts.error(job, on_job_error(settlement, job, error, target.retry, now), error)
    return counts


def _one(
    session: Session,
    connector: EnrollmentConnector,
    target: Target,
    job: ClaimedJob,
    item: tuple[Enrollment, Journey, Contact],
    links: dict[uuid.UUID, Link],
    settlement: Settlement,
    counts: PushCounts,
    now: datetime,
) -> None:
    enrollment, journey, contact = item
    pushed = links.get(enrollment.id)
    contact_link = links.get(contact.id)
    who = EnrollTarget(contact_link.remote_id if contact_link else None, contact.email)
    if enrollment.status == EnrollmentStatus.ACTIVE:
        if pushed is not None:
            counts.skipped += 1  # enrolled already (a redelivered job)
            settlement.succeed(job)
            return
        if contact_link is None and _contact_pending(session, target.integration_id, contact.id):
            settlement.requeue(
                job, now + CONTACT_WAIT, error="the contact's own push is queued",
                error_class="Pending", count_attempt=False,
            )  # fmt: skip
            return
        remote_id = connector.enroll(journey.remote_id, who)
        settlement.link(enrollment.id, remote_id, "enrolled", now)
    elif pushed is not None:
        connector.unenroll(journey.remote_id, who)
        settlement.unlink(pushed.id)
    else:
        counts.skipped += 1  # ended before it ever reached the CRM
        settlement.succeed(job)
        return
    settlement.succeed(job)
    counts.succeeded += 1
