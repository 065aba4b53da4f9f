"""Automation: the workspace's rules and its outgoing webhook endpoints, read by anyone
who may read integrations and written, as the API writes them, by those who manage
integrations: rules as YAML (created or replaced by name) or from the shipped templates,
turned on or off, deleted; endpoints added (their secret shown once), turned on or off,
their secret rotated, deleted."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from crmsync.auth.permissions import Permission
from crmsync.automation import service as rules
from crmsync.automation.spec import RuleInvalid, RuleSpec, dump_yaml, parse_yaml
from crmsync.connectors.http.guard import UnsafeURL
from crmsync.integrations.keys import vault_for
from crmsync.outbound.webhooks import endpoints
from crmsync.store.models import AutomationRule, WebhookEndpoint
from crmsync.web import queries
from crmsync.web.deps import Db, settings_of
from crmsync.web.guard import IntegrationManager, IntegrationReader, WebProblem, WebRoute, may
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX
from crmsync.web.sessions import SignedIn

router = APIRouter(route_class=WebRoute, prefix=f"{UI_PREFIX}/automation", include_in_schema=False)
HERE = f"{UI_PREFIX}/automation"
MAX_YAML = 200_000
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


def _page(request: Request, user: SignedIn, db: Db, status: int = 200, **extra: object) -> Response:
    # endpoints hold where the workspace's data goes: the API shows them to managers only
    manages = may(user, Permission.INTEGRATIONS_MANAGE)
    found = queries.automation_rules(db, user.workspace_id)
    context: dict[str, object] = {
        "rules": found,
        "endpoints": queries.webhook_endpoints(db, user.workspace_id) if manages else None,
        "templates": list(rules.templates()) if manages else [],
        "yaml": dump_yaml([RuleSpec.model_validate(r.spec) for r in found]) if found else "",
        **extra,
    }
    return page(request, "automation.html", context, status=status)


@router.get("")
def automation(request: Request, user: IntegrationReader, db: Db) -> Response:
    return _page(request, user, db)


@router.post("/rules")
def save_rules(
    request: Request,
    user: IntegrationManager,
    db: Db,
    document: Annotated[str, Form(max_length=MAX_YAML)],
) -> Response:
    """Rules as YAML: new names created, known names replaced (a new version)."""
    try:
        done = rules.upsert_all(db, user.workspace_id, parse_yaml(document))
    except (RuleInvalid, rules.RuleExists) as exc:
        db.rollback()
        return _page(request, user, db, 422, rules_error=str(exc), typed=document)
    db.commit()
    said = ", ".join(f"{done.count(k)} {k}" for k in ("created", "updated", "unchanged"))
    return redirect(HERE, f"Rules saved: {said}.")


@router.post("/templates")
def install_template(
    user: IntegrationManager, db: Db, template: Annotated[str, Form(max_length=100)]
) -> Response:
    try:
        done = rules.install_template(db, user.workspace_id, template)
    except rules.RuleNotFound as exc:
        raise WebProblem(422, f"template: {exc}") from None
    db.commit()
    return redirect(HERE, f"Template {template} installed ({', '.join(done)}).")


def _rule(db: Db, user: SignedIn, rule_id: uuid.UUID) -> AutomationRule:
    try:
        return rules.get(db, user.workspace_id, rule_id)
    except rules.RuleNotFound as exc:
        raise WebProblem(404, str(exc)) from None


@router.post("/rules/{rule_id}/toggle")
def toggle_rule(user: IntegrationManager, db: Db, rule_id: uuid.UUID) -> Response:
    rule = _rule(db, user, rule_id)
    spec = RuleSpec.model_validate({**rule.spec, "enabled": not rule.enabled})
    rules.replace(db, rule, spec)
    db.commit()
    return redirect(HERE, f"{rule.name} is {'on' if rule.enabled else 'off'}.")


@router.post("/rules/{rule_id}/delete")
def delete_rule(user: IntegrationManager, db: Db, rule_id: uuid.UUID) -> Response:
    rule = _rule(db, user, rule_id)
    db.delete(rule)
    db.commit()
    return redirect(HERE, f"{rule.name} is deleted, with its run log.")


def _event_types(text: str) -> list[str]:
    found = [t for t in re.split(r"[\s,]+", text.strip()) if t]
    bad = [t for t in found if not EVENT_TYPE.match(t) or len(t) > 100]
    if bad or len(found) > 100:
        raise WebProblem(
            422, f"event_types: names like contact.created, at most 100; not {', '.join(bad)}"
        )
    return found


@router.post("/endpoints")
def add_endpoint(
    request: Request,
    user: IntegrationManager,
    db: Db,
    url: Annotated[str, Form(max_length=2000)],
    event_types: Annotated[str, Form(max_length=10_000)] = "",
    description: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The secret is shown on the answer itself, once (never in a cookie or a URL)."""
    settings = settings_of(request)
    try:
        endpoint, secret = endpoints.create(
            db,
            vault_for(settings),
            user.workspace_id,
            url.strip(),
            _event_types(event_types),
            description.strip() or None,
            sandbox_mode=settings.sandbox_mode,
        )
    except UnsafeURL as exc:
        raise WebProblem(422, f"url: {exc}") from None
    db.commit()
    return _page(request, user, db, shown_secret=(endpoint.url, secret))


def _endpoint(db: Db, user: SignedIn, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    try:
        return endpoints.get(db, user.workspace_id, endpoint_id)
    except endpoints.EndpointNotFound as exc:
        raise WebProblem(404, str(exc)) from None


@router.post("/endpoints/{endpoint_id}/toggle")
def toggle_endpoint(user: IntegrationManager, db: Db, endpoint_id: uuid.UUID) -> Response:
    endpoint = _endpoint(db, user, endpoint_id)
    if endpoint.enabled:
        endpoints.disable(endpoint, f"{endpoints.BY_A_USER} ({user.email})")
    else:
        endpoints.enable(endpoint)
    db.commit()
    return redirect(HERE, f"{endpoint.url} is {'on' if endpoint.enabled else 'off'}.")


@router.post("/endpoints/{endpoint_id}/rotate")
def rotate_secret(
    request: Request, user: IntegrationManager, db: Db, endpoint_id: uuid.UUID
) -> Response:
    endpoint = _endpoint(db, user, endpoint_id)
    secret = endpoints.rotate_secret(vault_for(settings_of(request)), endpoint)
    db.commit()
    return _page(request, user, db, shown_secret=(endpoint.url, secret))


@router.post("/endpoints/{endpoint_id}/delete")
def delete_endpoint(user: IntegrationManager, db: Db, endpoint_id: uuid.UUID) -> Response:
    endpoint = _endpoint(db, user, endpoint_id)
    db.delete(endpoint)
    db.commit()
    return redirect(HERE, f"{endpoint.url} is removed.")
