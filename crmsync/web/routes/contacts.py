"""Contacts: a searchable list, and one contact's page (fields, CRM links, activity
timeline, journeys with enrol/unenrol, engagement and its reasons, change history)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from crmsync.marketing import engagement_service, enrollments, journeys
from crmsync.records.service import get_record
from crmsync.store.models import EnrollmentStatus
from crmsync.web import queries
from crmsync.web.deps import Db
from crmsync.web.guard import Reader, WebRoute, Writer
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=f"{UI_PREFIX}/contacts", include_in_schema=False)

SHOWN_FIELDS = (
    "first_name", "last_name", "email", "phone", "company", "job_title", "contact_type",
    "lifecycle_stage", "status", "source", "owner", "city", "state", "country", "utm_source",
    "utm_campaign", "external_ref",
)  # fmt: skip


@router.get("")
def contact_list(
    request: Request, user: Reader, db: Db, q: Annotated[str, Query(max_length=100)] = ""
) -> Response:
    found = queries.contacts_page(db, user.workspace_id, q or None)
    # htmx asks for the table alone as the person types; without script the form reloads
    template = "contacts_table.html" if request.headers.get("hx-request") else "contacts.html"
    return page(request, template, {"contacts": found, "q": q})


@router.get("/{contact_id}")
def contact_page(request: Request, user: Reader, db: Db, contact_id: uuid.UUID) -> Response:
    contact = get_record(db, user.workspace_id, "contacts", contact_id)
    enrolled = enrollments.for_contact(db, user.workspace_id, contact.id)
    active = {j.id for e, j in enrolled if e.status == EnrollmentStatus.ACTIVE}
    catalogue = [
        j for j in journeys.list_journeys(db, user.workspace_id, active=True) if j.id not in active
    ]
    return page(
        request,
        "contact.html",
        {
            "contact": contact,
            "fields": [(f, getattr(contact, f)) for f in SHOWN_FIELDS],
            "custom": contact.custom_fields or {},
            "links": queries.links_of(db, user.workspace_id, contact.id),
            "activities": queries.timeline(db, user.workspace_id, contact.id),
            "enrolled": enrolled,
            "journeys": catalogue,
            "engagement": engagement_service.explain(db, user.workspace_id, contact.id),
            "history": queries.history(db, user.workspace_id, contact.id),
        },
    )


@router.post("/{contact_id}/journeys")
def enroll(
    user: Writer, db: Db, contact_id: uuid.UUID, journey_id: Annotated[uuid.UUID, Form()]
) -> Response:
    journey = journeys.get_journey(db, user.workspace_id, journey_id)
    _enrollment, created = enrollments.enroll(
        db, user.workspace_id, contact_id, journey.id, trigger="manual"
    )
    db.commit()
    said = f"Enrolled in {journey.name}." if created else f"Already enrolled in {journey.name}."
    return redirect(f"{UI_PREFIX}/contacts/{contact_id}#journeys", said)


@router.post("/{contact_id}/journeys/{journey_id}/end")
def unenroll(user: Writer, db: Db, contact_id: uuid.UUID, journey_id: uuid.UUID) -> Response:
    journey = journeys.get_journey(db, user.workspace_id, journey_id)
    ended = enrollments.unenroll(
        db, user.workspace_id, contact_id, journey.id, by=f"user:{user.user_id}"
    )
    db.commit()
    if ended is None:
        return redirect(
            f"{UI_PREFIX}/contacts/{contact_id}", "Not enrolled in that journey.", "error"
        )
    return redirect(f"{UI_PREFIX}/contacts/{contact_id}#journeys", f"Taken out of {journey.name}.")
