"""Automation as it stands: the workspace's rules and its outgoing webhook endpoints
(read here; they are written through the API and the CLI)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from crmsync.auth.permissions import Permission
from crmsync.web import queries
from crmsync.web.deps import Db
from crmsync.web.guard import IntegrationReader, WebRoute, may
from crmsync.web.render import page
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=f"{UI_PREFIX}/automation", include_in_schema=False)


@router.get("")
def automation(request: Request, user: IntegrationReader, db: Db) -> Response:
    # endpoints hold where the workspace's data goes: the API shows them to managers only
    endpoints = (
        queries.webhook_endpoints(db, user.workspace_id)
        if may(user, Permission.INTEGRATIONS_MANAGE)
        else None
    )
    rules = queries.automation_rules(db, user.workspace_id)
    return page(request, "automation.html", {"rules": rules, "endpoints": endpoints})
