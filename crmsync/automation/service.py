"""Rules: create, replace (a new version), delete, list runs, dry-run, templates.

Services take the caller's session and never commit.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.automation.engine import Cause, Planned, context, evaluate
from crmsync.automation.spec import RuleInvalid, RuleSpec, parse_yaml
from crmsync.store.models import AutomationRule, AutomationRuleVersion

TEMPLATES = "crmsync.automation.templates"


class RuleNotFound(LookupError):
    pass


class RuleExists(ValueError):
    pass


def get(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> AutomationRule:
    rule = session.get(AutomationRule, rule_id)
    if rule is None or rule.workspace_id != workspace_id:
        raise RuleNotFound(f"no rule with id {rule_id}")
    return rule


def _by_name(session: Session, workspace_id: uuid.UUID, name: str) -> AutomationRule | None:
    return session.scalar(
        select(AutomationRule).where(
            AutomationRule.workspace_id == workspace_id, AutomationRule.name == name
        )
    )


def create(session: Session, workspace_id: uuid.UUID, spec: RuleSpec) -> AutomationRule:
    if _by_name(session, workspace_id, spec.name) is not None:
        raise RuleExists(f"a rule named {spec.name!r} exists; replace it with PUT")
    now = datetime.now(UTC)
    body = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    rule = AutomationRule(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        name=spec.name,
        enabled=spec.enabled,
        version=1,
        spec=body,
        created_at=now,
        updated_at=now,
    )
    session.add(rule)
    session.flush()
    session.add(AutomationRuleVersion(rule_id=rule.id, version=1, spec=body, created_at=now))
    return rule


def replace(session: Session, rule: AutomationRule, spec: RuleSpec) -> AutomationRule:
    """A new version; the old ones stay readable, and runs name the one they ran."""
    if spec.name != rule.name and _by_name(session, rule.workspace_id, spec.name) is not None:
        raise RuleExists(f"a rule named {spec.name!r} exists")
    now = datetime.now(UTC)
    body = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    rule.version += 1
    rule.name, rule.enabled, rule.spec, rule.updated_at = spec.name, spec.enabled, body, now
    session.add(
        AutomationRuleVersion(rule_id=rule.id, version=rule.version, spec=body, created_at=now)
    )
    return rule


def upsert_all(session: Session, workspace_id: uuid.UUID, specs: list[RuleSpec]) -> list[str]:
    """A YAML file's rules: new names created, known names replaced when they differ."""
    out = []
    for spec in specs:
        found = _by_name(session, workspace_id, spec.name)
        if found is None:
            create(session, workspace_id, spec)
            out.append("created")
        elif found.spec != spec.model_dump(mode="json", by_alias=True, exclude_none=True):
            replace(session, found, spec)
            out.append("updated")
        else:
            out.append("unchanged")
    return out


def dry_run(
    session: Session, rule: AutomationRule, sample: dict[str, Any]
) -> tuple[bool, list[Planned], dict[str, Any]]:
    """What the rule would do for a sample: ``record`` (fields, or ``id`` of a stored one),
    ``changes`` ({field: [from, to]}), ``event`` ({type, data}), ``source``. Writes nothing."""
    spec = RuleSpec.model_validate(rule.spec)
    record = dict(sample.get("record") or {})
    record_type = spec.trigger.record or sample.get("record_type")
    record_id = None
    if record.get("id") and record_type:
        try:
            record_id = uuid.UUID(str(record["id"]))
        except ValueError:
            raise RuleInvalid("record.id is not a UUID") from None
    changes = {k: tuple(v) for k, v in (sample.get("changes") or {}).items()}
    event = sample.get("event") or {}
    cause = Cause(
        key="dry-run",
        workspace_id=rule.workspace_id,
        source=str(sample.get("source") or "api"),
        record_type=record_type,
        record_id=record_id,
        created=bool(sample.get("created")),
        changes=changes,
        event_type=event.get("type"),
        event_data=event.get("data") or {},
    )
    ctx = context(session, cause)
    ctx["record"] = {**ctx["record"], **record}
    would, planned = evaluate(spec, cause, ctx)
    return would, planned, ctx


def templates() -> dict[str, str]:
    """The shipped rule templates: name -> YAML text."""
    folder = resources.files(TEMPLATES)
    return {
        item.name.removesuffix(".yaml"): item.read_text()
        for item in sorted(folder.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".yaml")
    }


def install_template(session: Session, workspace_id: uuid.UUID, name: str) -> list[str]:
    found = templates().get(name)
    if found is None:
        raise RuleNotFound(f"no template {name!r}; there are: {', '.join(templates())}")
    return upsert_all(session, workspace_id, parse_yaml(found))
