"""``/api/v1/trigger-rules``: which app events enrol contacts in (or take them out of)
which journeys; as JSON one by one, or the whole set as YAML
(``/api/v1/trigger-rules.yaml``); and ``/api/v1/trigger-rules/firings``, what they did."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from crmsync.api.deps import CanManageMarketing, CanReadIntegrations, Db
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.marketing import rules
from crmsync.marketing.rule_spec import validate
from crmsync.store.models import RuleFiring, TriggerRule

router = APIRouter(route_class=GuardedRoute, prefix=API_PREFIX, tags=["marketing"])


def rule_out(rule: TriggerRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "event_type": rule.event_type,
        "conditions": rule.conditions,
        "action": rule.action,
        "journeys": rule.journeys,
        "active": rule.active,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


@router.get("/trigger-rules", summary="The workspace's trigger rules")
def list_rules(principal: CanReadIntegrations, db: Db) -> JSON:
    return JSON({"items": [rule_out(r) for r in rules.list_rules(db, principal.workspace_id)]})


@router.post("/trigger-rules", status_code=201, summary="Add a trigger rule")
def create_rule(principal: CanManageMarketing, db: Db, body: dict[str, Any]) -> JSON:
    rule = rules.create_rule(db, principal.workspace_id, validate(body))
    db.commit()
    return JSON(rule_out(rule), status_code=201)


@router.get(
    "/trigger-rules.yaml",
    response_class=PlainTextResponse,
    summary="Every rule as YAML",
    responses={200: {"content": {"application/yaml": {}}}},
)
def export_rules(principal: CanReadIntegrations, db: Db) -> PlainTextResponse:
    text = rules.export_yaml(db, principal.workspace_id)
    return PlainTextResponse(text, media_type="application/yaml")


@router.put(
    "/trigger-rules.yaml",
    summary="Replace every rule with a YAML file's (a file with a problem changes nothing "
    "and is refused naming its line)",
)
async def import_rules(principal: CanManageMarketing, db: Db, request: Request) -> JSON:
    text = (await request.body()).decode("utf-8", errors="replace")
    stored = rules.import_yaml(db, principal.workspace_id, text)
    db.commit()
    return JSON({"items": [rule_out(r) for r in stored]})


@router.get("/trigger-rules/firings", summary="What rules did, with the event that caused it")
def list_firings(
    principal: CanReadIntegrations,
    db: Db,
    event_id: uuid.UUID | None = None,
    rule_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    limit: int = 100,
) -> JSON:
    query = select(RuleFiring).where(RuleFiring.workspace_id == principal.workspace_id)
    if event_id is not None:
        query = query.where(RuleFiring.event_id == event_id)
    if rule_id is not None:
        query = query.where(RuleFiring.rule_id == rule_id)
    if contact_id is not None:
        query = query.where(RuleFiring.contact_id == contact_id)
    found = db.scalars(query.order_by(RuleFiring.at.desc()).limit(max(1, min(limit, 1000))))
    keys = ("id", "rule_id", "event_id", "event_key", "journey_id", "contact_id", "action")
    return JSON({"items": [{k: getattr(f, k) for k in (*keys, "outcome", "at")} for f in found]})


@router.get("/trigger-rules/{rule_id}", summary="One trigger rule")
def get_rule(principal: CanReadIntegrations, db: Db, rule_id: uuid.UUID) -> JSON:
    return JSON(rule_out(rules.get_rule(db, principal.workspace_id, rule_id)))


@router.put("/trigger-rules/{rule_id}", summary="Replace a trigger rule")
def update_rule(
    principal: CanManageMarketing, db: Db, rule_id: uuid.UUID, body: dict[str, Any]
) -> JSON:
    rule = rules.update_rule(db, principal.workspace_id, rule_id, validate(body))
    db.commit()
    return JSON(rule_out(rule))


@router.delete("/trigger-rules/{rule_id}", status_code=204, summary="Delete a trigger rule")
def delete_rule(principal: CanManageMarketing, db: Db, rule_id: uuid.UUID) -> None:
    rules.delete_rule(db, principal.workspace_id, rule_id)
    db.commit()
