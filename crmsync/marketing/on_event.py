"""Marketing's subscriber to the event router: every app event goes through here.

An interaction becomes an Activity (with its engagement update and timeline jobs);
then the trigger rules of the event's type run. Events crmsync emits itself
(``engagement.*``) trigger rules too but are no interaction.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crmsync.marketing import activities, triggers
from crmsync.store.models import Event

__all__ = ["handle"]


def handle(session: Session, event: Event) -> None:
    contact = activities.resolve_contact(session, event.workspace_id, event.data or {})
    if contact is None:
        return
    activities.from_event(session, event, contact)
    triggers.fire(session, event, contact)
