"""Enrolling contacts in journeys and taking them out, as the CRM will see it.

An ``Enrollment`` is a sync object: each change queues an ``enrollments`` SyncJob for
the journey's integration, in the caller's transaction, and the worker makes the CRM
match the enrolment's *current* state (``enrollment_push``). Enrolling a contact who is
already in the journey returns the active enrolment (a partial unique index makes two
concurrent enrolments one), so a person, a rule and a redelivered event never enrol
twice. Callers commit.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmsync.marketing.errors import EnrollmentRefused
from crmsync.marketing.journeys import get_journey
from crmsync.records.service import get_record
from crmsync.store.models import Enrollment, EnrollmentStatus, Journey
from crmsync.sync import outbox

__all__ = ["OBJECT_TYPE", "active_enrollment", "complete", "enroll", "for_contact", "unenroll"]

OBJECT_TYPE = "enrollments"


def _queue(session: Session, enrollment: Enrollment, journey: Journey) -> None:
    # always an upsert: the push reads the enrolment's state, so an enrol and an unenrol
    # before the worker runs coalesce into one job that does the right thing
    outbox.enqueue(
        session,
        enrollment.workspace_id,
        OBJECT_TYPE,
        [enrollment.id],
        integrations=[journey.integration_id],
    )


def active_enrollment(
    session: Session, journey_id: uuid.UUID, contact_id: uuid.UUID
) -> Enrollment | None:
    return session.scalar(
        select(Enrollment).where(
            Enrollment.journey_id == journey_id,
            Enrollment.contact_id == contact_id,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
    )


def enroll(
    session: Session,
    workspace_id: uuid.UUID,
    contact_id: uuid.UUID,
    journey_id: uuid.UUID,
    *,
    trigger: str = "manual",
    event_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> tuple[Enrollment, bool]:
    """Enrol the contact; (the active enrolment, whether this call made it)."""
    get_record(session, workspace_id, "contacts", contact_id)  # 404 for another workspace's
    journey = get_journey(session, workspace_id, journey_id)
    existing = active_enrollment(session, journey.id, contact_id)
    if existing is not None:
        return existing, False
    if not journey.active or journey.removed_at is not None:
        raise EnrollmentRefused(f"journey {journey.name!r} is not active; it takes no enrolments")
    enrollment = Enrollment(
        workspace_id=workspace_id,
        journey_id=journey.id,
        contact_id=contact_id,
        status=EnrollmentStatus.ACTIVE,
        trigger=trigger[:120],
        event_id=event_id,
        enrolled_at=now or datetime.now(UTC),
    )
    try:
        with session.begin_nested():
            session.add(enrollment)
    except IntegrityError:
        # a concurrent enrolment of the same contact won; it is the one
        won = active_enrollment(session, journey.id, contact_id)
        if won is None:
            raise
        return won, False
    _queue(session, enrollment, journey)
    return enrollment, True


def unenroll(
    session: Session,
    workspace_id: uuid.UUID,
    contact_id: uuid.UUID,
    journey_id: uuid.UUID,
    *,
    by: str = "manual",
    now: datetime | None = None,
) -> Enrollment | None:
    """End the contact's active enrolment; None when there was none."""
    get_record(session, workspace_id, "contacts", contact_id)
    journey = get_journey(session, workspace_id, journey_id)
    enrollment = active_enrollment(session, journey.id, contact_id)
    if enrollment is None:
        return None
    enrollment.status = EnrollmentStatus.UNENROLLED
    enrollment.ended_at = now or datetime.now(UTC)
    enrollment.ended_by = by[:120]
    session.flush()
    _queue(session, enrollment, journey)
    return enrollment


def complete(
    session: Session,
    workspace_id: uuid.UUID,
    contact_id: uuid.UUID,
    journey: Journey,
    *,
    now: datetime | None = None,
) -> Enrollment | None:
    """Mark the contact's active enrolment completed (the CRM ran the journey through);
    nothing to push: the CRM ended it itself."""
    enrollment = active_enrollment(session, journey.id, contact_id)
    if enrollment is None or enrollment.workspace_id != workspace_id:
        return None
    enrollment.status = EnrollmentStatus.COMPLETED
    enrollment.ended_at = now or datetime.now(UTC)
    enrollment.ended_by = "crm"
    session.flush()
    return enrollment


def for_contact(
    session: Session, workspace_id: uuid.UUID, contact_id: uuid.UUID
) -> list[tuple[Enrollment, Journey]]:
    """The contact's enrolments, active and past, newest first."""
    get_record(session, workspace_id, "contacts", contact_id)
    rows = session.execute(
        select(Enrollment, Journey)
        .join(Journey, Journey.id == Enrollment.journey_id)
        .where(Enrollment.workspace_id == workspace_id, Enrollment.contact_id == contact_id)
        .order_by(Enrollment.enrolled_at.desc(), Enrollment.id)
    )
    return [(e, j) for e, j in rows]
