"""Trigger rules of a workspace: create, change, list, delete, and the whole set as a
YAML file. Callers commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.marketing.errors import RuleConflict
from crmsync.marketing.rule_spec import RuleSpec, dump_yaml, parse_yaml
from crmsync.records.errors import RecordNotFound
from crmsync.store.models import TriggerRule

__all__ = [
    "create_rule",
    "delete_rule",
    "export_yaml",
    "get_rule",
    "import_yaml",
    "list_rules",
    "spec_of",
    "update_rule",
]


def spec_of(rule: TriggerRule) -> RuleSpec:
    return RuleSpec.model_validate(
        {
            "name": rule.name,
            "event_type": rule.event_type,
            "conditions": rule.conditions,
            "action": rule.action,
            "journeys": rule.journeys,
            "active": rule.active,
        }
    )


def _fill(rule: TriggerRule, spec: RuleSpec) -> TriggerRule:
    rule.name = spec.name
    rule.event_type = spec.event_type
    rule.conditions = spec.conditions.model_dump(mode="json")
    rule.action = spec.action
    rule.journeys = spec.journeys.model_dump(mode="json", exclude_defaults=True)
    rule.active = spec.active
    rule.updated_at = datetime.now(UTC)
    return rule


def _by_name(session: Session, workspace_id: uuid.UUID, name: str) -> TriggerRule | None:
    return session.scalar(
        select(TriggerRule).where(
            TriggerRule.workspace_id == workspace_id, TriggerRule.name == name
        )
    )


def list_rules(session: Session, workspace_id: uuid.UUID) -> list[TriggerRule]:
    return list(
        session.scalars(
            select(TriggerRule)
            .where(TriggerRule.workspace_id == workspace_id)
            .order_by(TriggerRule.name)
        )
    )


def get_rule(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> TriggerRule:
    rule = session.get(TriggerRule, rule_id)
    if rule is None or rule.workspace_id != workspace_id:
        raise RecordNotFound(f"no trigger rule with id {rule_id}")
    return rule


def create_rule(session: Session, workspace_id: uuid.UUID, spec: RuleSpec) -> TriggerRule:
    if _by_name(session, workspace_id, spec.name) is not None:
        raise RuleConflict(f"a trigger rule named {spec.name!r} exists already")
    rule = _fill(TriggerRule(workspace_id=workspace_id), spec)
    session.add(rule)
    session.flush()
    return rule


def update_rule(
    session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID, spec: RuleSpec
) -> TriggerRule:
    rule = get_rule(session, workspace_id, rule_id)
    other = _by_name(session, workspace_id, spec.name)
    if other is not None and other.id != rule.id:
        raise RuleConflict(f"a trigger rule named {spec.name!r} exists already")
    _fill(rule, spec)
    session.flush()
    return rule


def delete_rule(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> None:
    session.delete(get_rule(session, workspace_id, rule_id))
    session.flush()


def import_yaml(
    session: Session, workspace_id: uuid.UUID, text: str, *, replace: bool = True
) -> list[TriggerRule]:
    """Store the file's rules (by name); with ``replace``, rules not in it are deleted.
    A file with any problem changes nothing."""
    specs = parse_yaml(text)
    wanted = {s.name for s in specs}
    if replace:
        for rule in list_rules(session, workspace_id):
            if rule.name not in wanted:
                session.delete(rule)
    stored = []
    for spec in specs:
        found = _by_name(session, workspace_id, spec.name)
        if found is None:
            found = TriggerRule(workspace_id=workspace_id)
            session.add(found)
        stored.append(_fill(found, spec))
    session.flush()
    return stored


def export_yaml(session: Session, workspace_id: uuid.UUID) -> str:
    return dump_yaml([spec_of(r) for r in list_rules(session, workspace_id)])
