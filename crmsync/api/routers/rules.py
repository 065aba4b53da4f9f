"""``/api/v1/rules``: automation rules (JSON or YAML), their versions, runs and dry run.

Reading needs ``integrations:read``; changing rules ``integrations:manage``.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from crmsync.api.deps import CanReadIntegrations, Db, require
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.auth.keys import Principal
from crmsync.auth.permissions import Permission
from crmsync.automation import service
from crmsync.automation.spec import RuleInvalid, RuleSpec, dump_yaml, parse_yaml
from crmsync.store.models import (
    AutomationRule,
    AutomationRuleVersion,
    AutomationRun,
    AutomationRunStatus,
)

router = APIRouter(
    route_class=GuardedRoute, prefix=f"{API_PREFIX}/rules", tags=["automation rules"]
)
CanManage = Annotated[Principal, Depends(require(Permission.INTEGRATIONS_MANAGE))]
MAX_YAML = 256 * 1024


class RunOut(BaseModel):
    """One run of a rule for one cause (a change or an event)."""

    id: int
    rule_version: int
    cause: str  # change:<change_log id> | event:<event id>
    record_type: str | None
    record_id: uuid.UUID | None
    status: AutomationRunStatus
    actions: list[Any]
    error: str | None
    at: datetime


class RunPage(BaseModel):
    items: list[RunOut]


def _out(rule: AutomationRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "enabled": rule.enabled,
        "version": rule.version,
        "spec": rule.spec,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


def _spec(body: dict[str, Any]) -> RuleSpec:
    try:
        return RuleSpec.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ApiError(
            422,
            "validation_error",
            f"{where}: {first['msg']}" if where else first["msg"],
            [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()[:20]],
        ) from None


def _rule(db: Db, principal: Principal, rule_id: uuid.UUID) -> AutomationRule:
    try:
        return service.get(db, principal.workspace_id, rule_id)
    except service.RuleNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None


@router.get("", summary="List rules")
def list_rules(principal: CanReadIntegrations, db: Db) -> JSON:
    rows = db.scalars(
        select(AutomationRule)
        .where(AutomationRule.workspace_id == principal.workspace_id)
        .order_by(AutomationRule.name)
    )
    return JSON({"items": [_out(r) for r in rows]})


@router.post("", status_code=201, summary="Create a rule (the JSON form of a rule)")
def create_rule(principal: CanManage, db: Db, body: dict[str, Any] = Body(...)) -> JSON:
    try:
        rule = service.create(db, principal.workspace_id, _spec(body))
    except service.RuleExists as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    db.commit()
    return JSON(_out(rule), status_code=201)


@router.get(
    "/yaml",
    summary="Every rule as one YAML file",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/yaml": {}}}},
)
def get_yaml(principal: CanReadIntegrations, db: Db) -> PlainTextResponse:
    rows = db.scalars(
        select(AutomationRule)
        .where(AutomationRule.workspace_id == principal.workspace_id)
        .order_by(AutomationRule.name)
    )
    specs = [RuleSpec.model_validate(r.spec) for r in rows]
    return PlainTextResponse(dump_yaml(specs), media_type="application/yaml")


@router.put("/yaml", summary="Create or replace rules from a YAML file (by name)")
async def put_yaml(principal: CanManage, db: Db, request: Request) -> JSON:
    raw = await request.body()
    if len(raw) > MAX_YAML:
        raise ApiError(413, "too_large", f"a rules file is at most {MAX_YAML // 1024} KiB")
    try:
        specs = parse_yaml(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(422, "validation_error", "a rules file is UTF-8 text") from None
    except RuleInvalid as exc:
        raise ApiError(422, "validation_error", str(exc), exc.details) from None
    try:
        outcomes = service.upsert_all(db, principal.workspace_id, specs)
    except service.RuleExists as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    db.commit()
    return JSON(
        {"rules": [{"name": s.name, "outcome": o} for s, o in zip(specs, outcomes, strict=True)]}
    )


@router.get("/templates", summary="The shipped rule templates")
def list_templates(principal: CanReadIntegrations) -> JSON:
    return JSON({"items": [{"name": k, "yaml": v} for k, v in service.templates().items()]})


@router.post("/templates/{name}", summary="Install a template's rules in this workspace")
def install_template(principal: CanManage, db: Db, name: str) -> JSON:
    try:
        outcomes = service.install_template(db, principal.workspace_id, name)
    except service.RuleNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    db.commit()
    return JSON({"installed": outcomes})


@router.get("/{rule_id}", summary="One rule")
def get_rule(principal: CanReadIntegrations, db: Db, rule_id: uuid.UUID) -> JSON:
    return JSON(_out(_rule(db, principal, rule_id)))


@router.put("/{rule_id}", summary="Replace a rule (a new version)")
def put_rule(
    principal: CanManage, db: Db, rule_id: uuid.UUID, body: dict[str, Any] = Body(...)
) -> JSON:
    rule = _rule(db, principal, rule_id)
    try:
        service.replace(db, rule, _spec(body))
    except service.RuleExists as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    db.commit()
    return JSON(_out(rule))


@router.delete("/{rule_id}", status_code=204, summary="Delete a rule and its run log")
def delete_rule(principal: CanManage, db: Db, rule_id: uuid.UUID) -> JSON:
    db.delete(_rule(db, principal, rule_id))
    db.commit()
    return JSON(None, status_code=204)


@router.get("/{rule_id}/versions", summary="Every version of a rule")
def list_versions(principal: CanReadIntegrations, db: Db, rule_id: uuid.UUID) -> JSON:
    rule = _rule(db, principal, rule_id)
    rows = db.scalars(
        select(AutomationRuleVersion)
        .where(AutomationRuleVersion.rule_id == rule.id)
        .order_by(AutomationRuleVersion.version)
    )
    return JSON(
        {
            "items": [
                {"version": v.version, "spec": v.spec, "created_at": v.created_at} for v in rows
            ]
        }
    )


@router.get("/{rule_id}/runs", response_model=RunPage, summary="The rule's run log, newest first")
def list_runs(
    principal: CanReadIntegrations,
    db: Db,
    rule_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSON:
    rule = _rule(db, principal, rule_id)
    rows = db.scalars(
        select(AutomationRun)
        .where(AutomationRun.rule_id == rule.id)
        .order_by(AutomationRun.id.desc())
        .limit(limit)
    )
    return JSON({"items": [{n: getattr(r, n) for n in RunOut.model_fields} for r in rows]})


@router.post("/{rule_id}/test", summary="Dry run: what the rule would do for a sample")
def test_rule(
    principal: CanReadIntegrations,
    db: Db,
    rule_id: uuid.UUID,
    sample: dict[str, Any] = Body(
        ...,
        examples=[
            {
                "record": {"status": "CONVERTED", "contact_id": "…", "first_name": "Ana"},
                "changes": {"status": ["NEW", "CONVERTED"]},
                "source": "api",
            }
        ],
    ),
) -> JSON:
    rule = _rule(db, principal, rule_id)
    try:
        would, planned, _ctx = service.dry_run(db, rule, sample)
    except (RuleInvalid, TypeError, ValueError) as exc:
        raise ApiError(422, "validation_error", f"sample: {exc}") from None
    return JSON({"would_fire": would, "actions": [asdict(p) for p in planned]})
