"""Marketing's subscriber to the event router: every app event goes through here.

An interaction becomes an Activity (with its engagement update and timeline jobs);
``journey.completed`` closes the contact's enrolment; then the trigger rules of the
event's type run. Events crmsync emits itself (``engagement.*``) trigger rules too but
are no interaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.marketing import activities, enrollments, triggers
from crmsync.store.models import Event, Journey

__all__ = ["handle", "wants"]


def wants(
    session: Session, workspace_id: uuid.UUID, event_type: str, data: Mapping[str, Any]
) -> bool:
    """Whether ``handle`` could act: only on an event that names its contact."""
    return any(data.get(key) for key in activities.PERSON_KEYS)


def handle(session: Session, event: Event) -> None:
    data = event.data or {}
    contact = activities.resolve_contact(session, event.workspace_id, data)
    if contact is None:
        return
    activities.from_event(session, event, contact)
    if event.type == "journey.completed":
        journey = _journey(session, event.workspace_id, data)
        if journey is not None:
            enrollments.complete(session, event.workspace_id, contact.id, journey)
    triggers.fire(session, event, contact)


def _journey(session: Session, workspace_id: uuid.UUID, data: dict[str, Any]) -> Journey | None:
    query = select(Journey).where(Journey.workspace_id == workspace_id)
    if data.get("journey_id"):
        try:
            return session.scalar(query.where(Journey.id == uuid.UUID(str(data["journey_id"]))))
        except ValueError:
            return None
    if data.get("journey_remote_id"):
        return session.scalar(query.where(Journey.remote_id == str(data["journey_remote_id"])))
    return None
