"""One automation rule: its YAML, its run log (newest first) and a dry run, for anyone who
may read integrations (a dry run writes nothing, as ``POST /api/v1/rules/{id}/test``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from crmsync.automation import service as rules
from crmsync.automation.spec import RuleInvalid, RuleSpec, dump_yaml
from crmsync.store.models import AutomationRule
from crmsync.web import logs
from crmsync.web.deps import Db
from crmsync.web.guard import IntegrationReader, WebProblem, WebRoute
from crmsync.web.render import page
from crmsync.web.routes import UI_PREFIX
from crmsync.web.sessions import SignedIn

router = APIRouter(
    route_class=WebRoute, prefix=f"{UI_PREFIX}/automation/rules", include_in_schema=False
)
MAX_SAMPLE = 50_000


def example(spec: RuleSpec) -> dict[str, Any]:
    """A sample that fires the rule's trigger: the form's starting text."""
    trigger = spec.trigger
    if trigger.event is not None:
        return {"event": {"type": trigger.event.replace("*", "example"), "data": {}}}
    sample: dict[str, Any] = {"record": {}, "source": "crm" if trigger.source == "crm" else "api"}
    if trigger.on == "created":
        sample["created"] = True
    elif trigger.watched_field is not None:
        to = trigger.to[0] if isinstance(trigger.to, list) else trigger.to
        sample["record"] = {trigger.watched_field: to}
        sample["changes"] = {trigger.watched_field: [None, to]}
    return sample


def _rule(db: Db, user: SignedIn, rule_id: uuid.UUID) -> AutomationRule:
    try:
        return rules.get(db, user.workspace_id, rule_id)
    except rules.RuleNotFound as exc:
        raise WebProblem(404, str(exc)) from None


def _page(
    request: Request, db: Db, rule: AutomationRule, status: int = 200, **extra: object
) -> Response:
    spec = RuleSpec.model_validate(rule.spec)
    context: dict[str, object] = {
        "rule": rule,
        "yaml": dump_yaml([spec]),
        "runs": logs.rule_runs(db, rule),
        "limit": logs.PAGE,
        "sample": orjson.dumps(example(spec), option=orjson.OPT_INDENT_2).decode(),
        **extra,
    }
    return page(request, "rule.html", context, status=status)


@router.get("/{rule_id}")
def rule_page(request: Request, user: IntegrationReader, db: Db, rule_id: uuid.UUID) -> Response:
    return _page(request, db, _rule(db, user, rule_id))


@router.post("/{rule_id}/test")
def dry_run(
    request: Request,
    user: IntegrationReader,
    db: Db,
    rule_id: uuid.UUID,
    sample: Annotated[str, Form(max_length=MAX_SAMPLE)],
) -> Response:
    rule = _rule(db, user, rule_id)
    try:
        parsed = orjson.loads(sample)
        if not isinstance(parsed, dict):
            raise TypeError("the sample is a JSON object")
        would, planned, _ctx = rules.dry_run(db, rule, parsed)
    except (orjson.JSONDecodeError, RuleInvalid, TypeError, ValueError) as exc:
        db.rollback()
        return _page(request, db, rule, 422, sample_error=f"sample: {exc}", typed=sample)
    db.rollback()  # a dry run writes nothing
    result = {"would_fire": would, "actions": planned}
    return _page(request, db, rule, result=result, typed=sample)
