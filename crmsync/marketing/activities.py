"""App events as Activity records on their contact's timeline.

An event whose type names an interaction (``message.sent``, ``email.opened``,
``loan.milestone_updated``, ``rate_alert.triggered``…) becomes one ``Activity`` linked
to its contact, through the records service (so it has its ChangeLog row and the
record sync of ``activities`` where one is configured). Then, in the same transaction,
the contact's engagement score takes it in and the timeline policy queues it for each
CRM that wants that type.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.fields.enums import ActivityDirection
from crmsync.marketing import engagement_service, settings, timeline
from crmsync.records.schemas import ActivityType
from crmsync.records.service import create_record
from crmsync.store.models import Activity, Contact, Event, Lead

__all__ = ["activity_type_of", "from_event", "resolve_contact"]

# event types whose activity type is not their first word
_NAMED: dict[str, str] = {
    "loan.milestone_updated": ActivityType.MILESTONE_UPDATE,
    "loan.application_submitted": ActivityType.POS_APPLICATION_SUBMITTED,
    "rate_alert.triggered": ActivityType.RATE_ALERT,
    "journey.step_completed": ActivityType.JOURNEY_STEP,
    "push.sent": ActivityType.PUSH_NOTIFICATION,
    "push.opened": ActivityType.PUSH_NOTIFICATION,
}
# the contact's own steps: applied, reached a milestone, set a rate alert off…
_CONTACT_DID = frozenset(
    {
        "loan.milestone_updated",
        "loan.application_submitted",
        "rate_alert.triggered",
        "journey.step_completed",
    }
)
_INBOUND_VERBS = {"received", "opened", "clicked", "replied", "answered", "held", "logged"}
_KNOWN = {t.value for t in ActivityType}


def activity_type_of(event_type: str, data: Mapping[str, Any]) -> str | None:
    """The activity an event stands for, or None (``lead.created`` is not an interaction)."""
    if event_type == "activity.logged":
        kind = str(data.get("type") or "")
        return kind if kind in _KNOWN else None
    if event_type in _NAMED:
        return _NAMED[event_type]
    first = event_type.split(".", 1)[0]
    return first if first in _KNOWN else None


def _direction(event_type: str, data: Mapping[str, Any]) -> ActivityDirection:
    given = data.get("direction")
    if given in tuple(ActivityDirection):
        return ActivityDirection(given)
    verb = event_type.rsplit(".", 1)[-1]
    if event_type in _CONTACT_DID or verb in _INBOUND_VERBS:
        return ActivityDirection.INBOUND  # the contact did it
    return ActivityDirection.OUTBOUND


PERSON_KEYS = ("contact_id", "contact_ref", "lead_id", "email")


def resolve_contact(
    session: Session, workspace_id: uuid.UUID, data: Mapping[str, Any]
) -> Contact | None:
    """The event's contact: ``contact_id``, ``contact_ref`` (the app's own id), the
    contact of ``lead_id``, or ``email``."""
    if not any(data.get(key) for key in PERSON_KEYS):
        return None  # most bus traffic: no expression built, no query
    live = (Contact.workspace_id == workspace_id, Contact.deleted_at.is_(None))
    if data.get("contact_id"):
        try:
            wanted = uuid.UUID(str(data["contact_id"]))
        except ValueError:
            return None
        return session.scalar(select(Contact).where(Contact.id == wanted, *live))
    if data.get("contact_ref"):
        return session.scalar(
            select(Contact).where(Contact.external_ref == str(data["contact_ref"]), *live)
        )
    if data.get("lead_id"):
        try:
            lead_id = uuid.UUID(str(data["lead_id"]))
        except ValueError:
            return None
        contact_id = session.scalar(
            select(Lead.contact_id).where(Lead.id == lead_id, Lead.workspace_id == workspace_id)
        )
        return session.get(Contact, contact_id) if contact_id else None
    if data.get("email"):
        key = str(data["email"]).strip().lower()
        return session.scalar(select(Contact).where(Contact.email_key == key, *live).limit(1))
    return None


def _subject(event: Event, kind: str) -> str:
    data = event.data or {}
    for key in ("subject", "title", "milestone", "name"):
        if data.get(key):
            return str(data[key])[:255]
    return event.type.replace(".", " ").replace("_", " ")[:255]


def from_event(session: Session, event: Event, contact: Contact | None) -> Activity | None:
    """The activity of ``event`` (None when it is no interaction or has no contact)."""
    data = event.data or {}
    kind = activity_type_of(event.type, data)
    if kind is None or contact is None:
        return None
    payload = {
        "type": kind,
        "direction": _direction(event.type, data),
        "subject": _subject(event, kind),
        "body": str(data["body"]) if data.get("body") else None,
        "occurred_at": event.occurred_at.isoformat(),
        "contact_id": str(contact.id),
        "data": {"event_type": event.type, "event_id": str(event.id), **dict(data)},
    }
    created = create_record(session, event.workspace_id, "activities", payload, source="event")
    assert isinstance(created, Activity)
    config = settings.load(session, event.workspace_id)
    engagement_service.apply_activity(
        session,
        event.workspace_id,
        contact.id,
        created.type,
        created.occurred_at,
        channel=data.get("channel"),
        direction=created.direction,
        model=config.engagement,
    )
    timeline.enqueue(session, created, config)
    return created
