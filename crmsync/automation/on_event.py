"""App events reach the rules through the event router, in the event's transaction.

A workspace's rules with an event trigger are read once per transaction (a bus batch of
a thousand events reads them once), and ``wants`` tells the router which events no rule
would take, so a batch never loads them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.automation.engine import Cause, fire, triggered
from crmsync.automation.spec import RuleSpec
from crmsync.store.models import AutomationRule, Event

# event data key -> the record it names
_RECORD_KEYS = (("deal_id", "deals"), ("lead_id", "leads"), ("contact_id", "contacts"))
_CACHE: Final = "crmsync.automation.event_rules"

EventRules = list[tuple[AutomationRule, RuleSpec]]


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


def event_rules(session: Session, workspace_id: uuid.UUID) -> EventRules:
    """The workspace's enabled rules with an event trigger, by name; read once per
    transaction."""
    root = session.get_transaction()
    cached: tuple[object, dict[uuid.UUID, EventRules]] | None = session.info.get(_CACHE)
    if root is None or cached is None or cached[0] is not root:
        cached = (root, {})
        if root is not None:
            session.info[_CACHE] = cached
    rules = cached[1].get(workspace_id)
    if rules is None:
        rules = []
        for rule in session.scalars(
            select(AutomationRule)
            .where(AutomationRule.workspace_id == workspace_id, AutomationRule.enabled.is_(True))
            .order_by(AutomationRule.name)
        ):
            spec = RuleSpec.model_validate(rule.spec)
            if spec.trigger.event is not None:
                rules.append((rule, spec))
        cached[1][workspace_id] = rules
    return rules


def wants(
    session: Session, workspace_id: uuid.UUID, event_type: str, data: Mapping[str, Any]
) -> bool:
    """Whether any of the workspace's event rules is triggered by this type."""
    probe = Cause(key="", workspace_id=workspace_id, source="event", event_type=event_type)
    return any(triggered(spec.trigger, probe) for _, spec in event_rules(session, workspace_id))


def handle(session: Session, event: Event) -> None:
    cause = cause_of(event)
    for rule, _spec in event_rules(session, event.workspace_id):
        fire(session, rule, cause)
