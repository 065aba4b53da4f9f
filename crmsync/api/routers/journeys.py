"""``/api/v1/journeys`` (the catalogue and its performance) and a contact's journeys:
``/api/v1/contacts/{id}/journeys`` (enrol, unenrol, list)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from crmsync.api.deps import CanManageMarketing, CanReadRecords, CanWriteRecords, Db
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.marketing import enrollments, journeys, stats
from crmsync.store.models import Enrollment, EnrollmentStatus, Integration, Journey
from crmsync.sync.targets import targets_of

router = APIRouter(route_class=GuardedRoute, prefix=API_PREFIX, tags=["marketing"])


def journey_out(journey: Journey) -> dict[str, Any]:
    return {
        "id": journey.id,
        "integration_id": journey.integration_id,
        "remote_id": journey.remote_id,
        "name": journey.name,
        "description": journey.description,
        "category": journey.category,
        "trigger_type": journey.trigger_type,
        "active": journey.active,
        "steps": journey.steps,
        "remote_enrollment_count": journey.remote_enrollment_count,
        "remote_completion_rate": journey.remote_completion_rate,
        "refreshed_at": journey.refreshed_at,
    }


class EnrollmentOut(BaseModel):
    """One contact in one journey, from enrolment to its end."""

    id: uuid.UUID
    journey_id: uuid.UUID
    journey_name: str
    contact_id: uuid.UUID
    status: EnrollmentStatus
    trigger: str  # manual | rule:<rule name>
    event_id: uuid.UUID | None
    enrolled_at: datetime
    ended_at: datetime | None
    ended_by: str | None


class EnrollmentList(BaseModel):
    items: list[EnrollmentOut]


def enrollment_out(enrollment: Enrollment, journey: Journey) -> dict[str, Any]:
    return {
        name: journey.name if name == "journey_name" else getattr(enrollment, name)
        for name in EnrollmentOut.model_fields
    }


def _connector_of(request: Request) -> journeys.ConnectorOf:
    resolver = targets_of(request.app)

    def connector(integration: Integration) -> Any:
        return resolver.connector(integration)

    return connector


@router.get("/journeys", summary="The journey catalogue (refreshed when older than its cache)")
def list_journeys(
    principal: CanReadRecords,
    db: Db,
    request: Request,
    integration_id: uuid.UUID | None = None,
    active: bool | None = None,
    trigger_type: str | None = None,
    category: str | None = None,
) -> JSON:
    report = journeys.refresh(db, principal.workspace_id, _connector_of(request))
    if report.refreshed:
        db.commit()
    found = journeys.list_journeys(
        db,
        principal.workspace_id,
        integration_id=integration_id,
        active=active,
        trigger_type=trigger_type,
        category=category,
    )
    return JSON({"items": [journey_out(j) for j in found], "refresh_errors": report.errors})


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    integration_id: uuid.UUID | None = None


@router.post("/journeys/refresh", summary="Read the journeys of the CRMs again, now")
def refresh_journeys(
    principal: CanManageMarketing, db: Db, request: Request, body: RefreshIn | None = None
) -> JSON:
    report = journeys.refresh(
        db,
        principal.workspace_id,
        _connector_of(request),
        integration_id=body.integration_id if body else None,
        force=True,
    )
    db.commit()
    return JSON({"refreshed": report.refreshed, "errors": report.errors})


@router.get("/journeys/performance", summary="Per journey: enrolments and outcomes in a range")
def journey_performance(
    principal: CanManageMarketing,
    db: Db,
    start: datetime | None = None,
    end: datetime | None = None,
    journey_id: uuid.UUID | None = None,
) -> JSON:
    rows = stats.journey_performance(
        db, principal.workspace_id, start=start, end=end, journey_id=journey_id
    )
    return JSON({"items": [vars(r) for r in rows], "start": start, "end": end})


@router.get("/journeys/{journey_id}", summary="One journey")
def get_journey(principal: CanReadRecords, db: Db, journey_id: uuid.UUID) -> JSON:
    return JSON(journey_out(journeys.get_journey(db, principal.workspace_id, journey_id)))


@router.get(
    "/contacts/{contact_id}/journeys",
    response_model=EnrollmentList,
    summary="A contact's enrolments, active and past",
)
def contact_journeys(principal: CanReadRecords, db: Db, contact_id: uuid.UUID) -> JSON:
    rows = enrollments.for_contact(db, principal.workspace_id, contact_id)
    return JSON({"items": [enrollment_out(e, j) for e, j in rows]})


@router.post(
    "/contacts/{contact_id}/journeys/{journey_id}/enroll",
    status_code=201,
    response_model=EnrollmentOut,
    summary="Enrol a contact (enrolling again answers the active enrolment, 200)",
)
def enroll(
    principal: CanWriteRecords, db: Db, contact_id: uuid.UUID, journey_id: uuid.UUID
) -> JSON:
    enrollment, created = enrollments.enroll(
        db, principal.workspace_id, contact_id, journey_id, trigger="manual"
    )
    journey = journeys.get_journey(db, principal.workspace_id, journey_id)
    db.commit()
    return JSON(enrollment_out(enrollment, journey), status_code=201 if created else 200)


@router.delete(
    "/contacts/{contact_id}/journeys/{journey_id}",
    response_model=EnrollmentOut,
    summary="Take a contact out of a journey",
)
def unenroll(
    principal: CanWriteRecords, db: Db, contact_id: uuid.UUID, journey_id: uuid.UUID
) -> JSON:
    ended = enrollments.unenroll(
        db, principal.workspace_id, contact_id, journey_id, by=f"key:{principal.key_id}"
    )
    if ended is None:
        raise ApiError(404, "not_found", "the contact is not enrolled in this journey")
    journey = journeys.get_journey(db, principal.workspace_id, journey_id)
    db.commit()
    return JSON(enrollment_out(ended, journey))


@router.get("/stats/contacts", summary="Contacts: total, new this month, engagement spread")
def contact_stats(principal: CanManageMarketing, db: Db) -> JSON:
    return JSON(stats.contact_stats(db, principal.workspace_id))
