"""Run rules on a cause (a record change or an app event). Never commits.

Every firing is an ``AutomationRun`` row, unique per (rule, cause): a change read twice,
or an event delivered twice, fires a rule once. Actions write with source
``rule:<rule id>``; a change with that source does not fire the same rule again, and a
rule firing more than ``LOOP_LIMIT`` times for one record within ``LOOP_WINDOW`` is
stopped (a chain of rules feeding each other), each time logged as ``loop``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmsync.alerts.service import raise_alert
from crmsync.automation.conditions import holds, lookup
from crmsync.automation.spec import RuleSpec, Trigger
from crmsync.fields.enums import ActivityDirection
from crmsync.marketing.enrollments import enroll, unenroll
from crmsync.marketing.journeys import get_journey
from crmsync.outbound.emit import emit
from crmsync.records import service as records
from crmsync.records.changelog import json_value
from crmsync.records.errors import RecordError
from crmsync.records.payloads import to_dict
from crmsync.store.models import AutomationRule, AutomationRun, AutomationRunStatus, Journey

LOOP_LIMIT: Final = 10
LOOP_WINDOW: Final = timedelta(minutes=1)
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")


@dataclass(frozen=True)
class Cause:
    """What happened: a record change (from the ChangeLog) or an app event."""

    key: str  # change:<first change_log id> | event:<event id>
    workspace_id: uuid.UUID
    source: str  # api, import:<job>, crm:<integration>, rule:<rule>, event
    record_type: str | None = None
    record_id: uuid.UUID | None = None
    created: bool = False
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    event_type: str | None = None
    event_data: dict[str, Any] = field(default_factory=dict)

    @property
    def source_kind(self) -> str:
        if self.source.startswith("crm:"):
            return "crm"
        if self.source.startswith("rule:"):
            return "rule"
        return "app"


def _entered(trigger: Trigger, cause: Cause) -> bool:
    watched = trigger.watched_field
    if watched is None:
        return True
    if watched not in cause.changes:
        return False
    before, after = cause.changes[watched]
    if before == after:
        return False
    if trigger.to is None:
        return True
    wanted = trigger.to if isinstance(trigger.to, list) else [trigger.to]
    return after in wanted


def triggered(trigger: Trigger, cause: Cause) -> bool:
    if trigger.source == "crm" and cause.source_kind != "crm":
        return False
    if trigger.source == "app" and cause.source_kind == "crm":
        return False
    if trigger.event is not None:
        if cause.event_type is None:
            return False
        if trigger.event == "*":
            return True
        if trigger.event.endswith(".*"):
            return cause.event_type.startswith(trigger.event[:-1])
        return cause.event_type == trigger.event
    if cause.record_type != trigger.record:
        return False
    if trigger.on == "created":
        return cause.created
    return _entered(trigger, cause)


def context(session: Session, cause: Cause) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if cause.record_type and cause.record_id:
        try:
            found = records.get_record(
                session, cause.workspace_id, cause.record_type, cause.record_id
            )
            record = {k: _plain(v) for k, v in to_dict(found).items()}
        except RecordError:
            record = {}
    return {
        "record": record,
        "record_type": cause.record_type,
        "changes": {k: {"from": _plain(a), "to": _plain(b)} for k, (a, b) in cause.changes.items()},
        "event": {"type": cause.event_type, "data": cause.event_data},
        "source": cause.source,
        "source_kind": cause.source_kind,
    }


def _plain(value: Any) -> Any:
    """The JSON form a context value takes (as the ChangeLog stores it)."""
    return json_value(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def render(value: Any, ctx: dict[str, Any]) -> Any:
    """Fill ``{{path}}`` placeholders; a string that is one placeholder keeps its type."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value.strip())
        if whole:
            return lookup(ctx, whole.group(1))
        return PLACEHOLDER.sub(
            lambda m: "" if (v := lookup(ctx, m.group(1))) is None else str(v), value
        )
    if isinstance(value, dict):
        return {k: render(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, ctx) for v in value]
    return value


@dataclass(frozen=True)
class Planned:
    kind: str
    params: dict[str, Any]


def plan(spec: RuleSpec, ctx: dict[str, Any]) -> list[Planned]:
    out = []
    for action in spec.actions:
        params = render(action.model_dump(mode="json", exclude_none=True)[action.kind], ctx)
        if action.kind in ("enroll", "unenroll") and params.get("contact_id") is None:
            params["contact_id"] = _contact_in(ctx)
        out.append(Planned(action.kind, params))
    return out


@dataclass(frozen=True)
class Outcome:
    status: str  # an AutomationRunStatus, or "duplicate" (the cause was already run)
    actions: list[dict[str, Any]]
    error: str | None = None


def evaluate(spec: RuleSpec, cause: Cause, ctx: dict[str, Any]) -> tuple[bool, list[Planned]]:
    """Whether the rule would act on the cause, and what it would do (the dry run)."""
    if not triggered(spec.trigger, cause) or not holds(spec.when, ctx):
        return False, []
    return True, plan(spec, ctx)


def fire(
    session: Session, rule: AutomationRule, cause: Cause, now: datetime | None = None
) -> Outcome:
    """Run ``rule`` on ``cause`` once, and log it."""
    now = now or datetime.now(UTC)
    spec = RuleSpec.model_validate(rule.spec)
    if not triggered(spec.trigger, cause):
        return Outcome(AutomationRunStatus.SKIPPED, [])
    run = AutomationRun(
        workspace_id=rule.workspace_id,
        rule_id=rule.id,
        rule_version=rule.version,
        cause=cause.key[:100],
        record_type=cause.record_type,
        record_id=cause.record_id,
        status=AutomationRunStatus.RUNNING,
        at=now,
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return Outcome("duplicate", [])
    if cause.source == f"rule:{rule.id}" or _too_often(session, rule, cause, now):
        run.status = AutomationRunStatus.LOOP
        run.error = "stopped: this rule's own change would fire it again"
        return Outcome(AutomationRunStatus.LOOP, [], run.error)
    ctx = context(session, cause)
    if not holds(spec.when, ctx):
        run.status = AutomationRunStatus.SKIPPED
        return Outcome(AutomationRunStatus.SKIPPED, [])
    done: list[dict[str, Any]] = []
    try:
        with session.begin_nested():
            for step in plan(spec, ctx):
                done.append(_act(session, rule, cause, step, now))
    except (RecordError, ValueError) as exc:
        run.status, run.error = AutomationRunStatus.FAILED, str(exc)[:1000]
        run.actions = done
        return Outcome(AutomationRunStatus.FAILED, done, run.error)
    run.status, run.actions = AutomationRunStatus.DONE, done
    return Outcome(AutomationRunStatus.DONE, done)


def _too_often(session: Session, rule: AutomationRule, cause: Cause, now: datetime) -> bool:
    if cause.record_id is None:
        return False
    recent = session.scalar(
        select(func.count()).where(
            AutomationRun.rule_id == rule.id,
            AutomationRun.record_id == cause.record_id,
            AutomationRun.at >= now - LOOP_WINDOW,
            AutomationRun.status == AutomationRunStatus.DONE,
        )
    )
    return (recent or 0) >= LOOP_LIMIT


def _act(
    session: Session, rule: AutomationRule, cause: Cause, step: Planned, now: datetime
) -> dict[str, Any]:
    source = f"rule:{rule.id}"
    ws, p = rule.workspace_id, step.params
    if step.kind == "update_fields":
        if not (cause.record_type and cause.record_id):
            raise ValueError("update_fields needs a record: the trigger has none")
        records.update_record(session, ws, cause.record_type, cause.record_id, p, source)
        return {"update_fields": sorted(p)}
    if step.kind == "create_record":
        made = records.create_record(session, ws, p["type"], p["fields"], source)
        return {"create_record": p["type"], "id": str(made.id)}
    if step.kind in ("create_activity", "create_task"):
        return _activity(session, ws, cause, step, source, now)
    if step.kind == "emit":
        key = str(cause.record_id or cause.key)
        emit(session, ws, p["type"], key, {**p.get("data", {}), "rule": rule.name})
        return {"emit": p["type"]}
    if step.kind in ("enroll", "unenroll"):
        return _journey(session, ws, step, source, now)
    if step.kind == "alert":
        alert = raise_alert(
            session, ws, f"rule.{rule.name}", str(cause.record_id or cause.key),
            p.get("severity", "warning"), p["message"], now,
        )  # fmt: skip
        return {"alert": str(alert.id)}
    raise ValueError(f"unknown action {step.kind}")  # pragma: no cover - the spec refuses it


def _journey(
    session: Session, ws: uuid.UUID, step: Planned, source: str, now: datetime
) -> dict[str, Any]:
    p = step.params
    contact_id = _contact_of(p)
    journey = _find_journey(session, ws, p)
    if step.kind == "enroll":
        made, new = enroll(session, ws, contact_id, journey.id, trigger=source, now=now)
        return {"enroll": journey.name, "id": str(made.id), "new": new}
    ended = unenroll(session, ws, contact_id, journey.id, by=source, now=now)
    return {"unenroll": journey.name, "id": str(ended.id) if ended else None}


def _find_journey(session: Session, ws: uuid.UUID, p: dict[str, Any]) -> Journey:
    if p.get("journey_id"):
        try:
            return get_journey(session, ws, uuid.UUID(str(p["journey_id"])))
        except ValueError:
            raise ValueError(f"journey_id {p['journey_id']!r} is not a journey id") from None
    found = session.scalars(
        select(Journey).where(
            Journey.workspace_id == ws, Journey.name == p["journey"], Journey.removed_at.is_(None)
        )
    ).all()
    if len(found) != 1:
        what = "no journey" if not found else f"{len(found)} journeys"
        raise ValueError(f"{what} named {p['journey']!r}: name it by journey_id")
    return found[0]


def _contact_in(ctx: dict[str, Any]) -> Any:
    """An enrolment's default contact: the triggering contact, else the record's or the
    event's ``contact_id``."""
    record = ctx.get("record") or {}
    if ctx.get("record_type") == "contacts" and record.get("id"):
        return record["id"]
    return record.get("contact_id") or lookup(ctx, "event.data.contact_id")


def _contact_of(p: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(p.get("contact_id")))
    except ValueError:
        raise ValueError(
            "enroll/unenroll needs a contact: the trigger names none; set contact_id"
        ) from None


def _activity(
    session: Session, ws: uuid.UUID, cause: Cause, step: Planned, source: str, now: datetime
) -> dict[str, Any]:
    p = step.params
    body: dict[str, Any] = {
        "type": p.get("type", "call"),
        "subject": p["subject"],
        "direction": ActivityDirection.OUTBOUND,
        "occurred_at": now.isoformat(),
    }
    if p.get("body"):
        body["body"] = p["body"]
    if step.kind == "create_task":
        due = now + timedelta(days=float(p.get("due_in_days", 1)))
        body["data"] = {"task": {"due_at": due.isoformat(), "status": "open"}}
    ref = {"contacts": "contact_id", "leads": "lead_id", "deals": "deal_id"}.get(
        cause.record_type or ""
    )
    if ref and cause.record_id:
        body[ref] = str(cause.record_id)
    made = records.create_record(session, ws, "activities", body, source)
    return {step.kind: p["subject"], "id": str(made.id)}
