"""Run the workspace's trigger rules on one event: match, enrol or unenrol, record.

Each (rule, event, journey) fires at most once: the firing row is written first, under a
unique key of the rule, the event's identity across redeliveries (its idempotency key,
else the app's ``event_id`` in its data, else the stored event) and the journey. A
redelivered event finds its firings and does nothing; and enrolment itself is one per
contact and journey, so even an event sent twice under two identities enrols once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmsync.marketing import enrollments
from crmsync.marketing.rule_spec import JourneySelector
from crmsync.marketing.rules import spec_of
from crmsync.store.models import Contact, Event, Journey, RuleFiring, TriggerRule

__all__ = ["event_key", "fire", "matches"]


def event_key(event: Event) -> str:
    if event.idempotency_key:
        return f"key:{event.idempotency_key}"[:220]
    app_id = (event.data or {}).get("event_id")
    if app_id:
        return f"app:{app_id}"[:220]
    return f"event:{event.id}"


def _lookup(source: Mapping[str, Any] | Any, path: str) -> Any:
    value: Any = source
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    return value


def _accepts(wanted: Any, actual: Any) -> bool:
    options = wanted if isinstance(wanted, list) else [wanted]
    return actual is not None and str(actual).lower() in {str(o).lower() for o in options}


def matches(conditions: Mapping[str, Any], data: Mapping[str, Any], contact: Contact) -> bool:
    """Whether an event's data and its contact pass a rule's filters."""
    for path, wanted in (conditions.get("data") or {}).items():
        if not _accepts(wanted, _lookup(data, path)):
            return False
    for path, wanted in (conditions.get("contact") or {}).items():
        if not _accepts(wanted, _lookup(contact, path)):
            return False
    return True


def _journeys(
    session: Session, workspace_id: uuid.UUID, selector: JourneySelector
) -> list[Journey]:
    ids = []
    for raw in selector.ids:
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            continue
    query = select(Journey).where(
        Journey.workspace_id == workspace_id,
        Journey.removed_at.is_(None),
        or_(
            Journey.id.in_(ids),
            Journey.remote_id.in_(selector.remote_ids),
            Journey.name.in_(selector.names),
            Journey.category.in_(selector.categories),
        ),
    )
    if selector.integration_id:
        query = query.where(Journey.integration_id == uuid.UUID(selector.integration_id))
    return list(session.scalars(query.order_by(Journey.id)))


def fire(session: Session, event: Event, contact: Contact) -> list[RuleFiring]:
    """Apply every active rule of the event's type; the firings made now."""
    rules = session.scalars(
        select(TriggerRule)
        .where(
            TriggerRule.workspace_id == event.workspace_id,
            TriggerRule.event_type == event.type,
            TriggerRule.active.is_(True),
        )
        .order_by(TriggerRule.name)
    ).all()
    key = event_key(event)
    made: list[RuleFiring] = []
    for rule in rules:
        spec = spec_of(rule)
        if not matches(rule.conditions, event.data or {}, contact):
            continue
        for journey in _journeys(session, event.workspace_id, spec.journeys):
            firing = _claim(session, rule, event, key, journey, contact)
            if firing is None:
                continue  # this event fired this rule on this journey before
            firing.outcome = _act(session, rule, event, journey, contact)
            made.append(firing)
    session.flush()
    return made


def _claim(
    session: Session,
    rule: TriggerRule,
    event: Event,
    key: str,
    journey: Journey,
    contact: Contact,
) -> RuleFiring | None:
    firing = RuleFiring(
        workspace_id=event.workspace_id,
        rule_id=rule.id,
        event_id=event.id,
        event_key=key,
        journey_id=journey.id,
        contact_id=contact.id,
        action=rule.action,
        outcome="pending",
    )
    try:
        with session.begin_nested():
            session.add(firing)
    except IntegrityError:
        return None
    return firing


def _act(
    session: Session, rule: TriggerRule, event: Event, journey: Journey, contact: Contact
) -> str:
    if rule.action == "unenroll":
        ended = enrollments.unenroll(
            session, event.workspace_id, contact.id, journey.id, by=f"rule:{rule.name}"
        )
        return "unenrolled" if ended else "not_enrolled"
    if not journey.active:
        return "journey_inactive"
    _enrollment, created = enrollments.enroll(
        session,
        event.workspace_id,
        contact.id,
        journey.id,
        trigger=f"rule:{rule.name}",
        event_id=event.id,
    )
    return "enrolled" if created else "already_enrolled"
