"""App events crmsync records itself that the host app is told about: the event router
hands them here and they become outbound events (webhooks, the event bus) of the same
type, in the event's transaction. Today: ``engagement.high`` and ``engagement.cooled``
(a contact's engagement score crossing the workspace's thresholds), keyed by contact."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crmsync.outbound.emit import emit
from crmsync.store.models import Event

RELAYED = ("engagement.high", "engagement.cooled")


def on_event(session: Session, event: Event) -> None:
    data = dict(event.data or {})
    key = str(data.get("contact_id") or event.id)
    emit(session, event.workspace_id, event.type, key, {**data, "event_id": str(event.id)})
