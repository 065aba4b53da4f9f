"""App events reach the rules through the event router, in the event's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.automation.engine import Cause, fire
from crmsync.automation.spec import RuleSpec
from crmsync.store.models import AutomationRule, Event

# event data key -> the record it names
_RECORD_KEYS = (("deal_id", "deals"), ("lead_id", "leads"), ("contact_id", "contacts"))


def cause_of(event: Event) -> Cause:
    data: dict[str, Any] = event.data or {}
    record_type, record_id = None, None
    for key, kind in _RECORD_KEYS:
        try:
            record_id = uuid.UUID(str(data[key])) if data.get(key) else None
        except ValueError:
            record_id = None
        if record_id is not None:
            record_type = kind
            break
    return Cause(
        key=f"event:{event.id}",
        workspace_id=event.workspace_id,
        source="event",
        record_type=record_type,
        record_id=record_id,
        event_type=event.type,
        event_data=data,
    )


def handle(session: Session, event: Event) -> None:
    rules = session.scalars(
        select(AutomationRule)
        .where(AutomationRule.workspace_id == event.workspace_id, AutomationRule.enabled.is_(True))
        .order_by(AutomationRule.name)
    ).all()
    cause = cause_of(event)
    for rule in rules:
        if RuleSpec.model_validate(rule.spec).trigger.event is not None:
            fire(session, rule, cause)
