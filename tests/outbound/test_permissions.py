"""The role matrix of outbound webhooks, alerts and automation rules (the API-wide test
checks every route is in one of these lists)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from tests.conftest import Tenant

E, D, A, R = "{endpoint_id}", "{delivery_id}", "{alert_id}", "{rule_id}"
READ, MANAGE = Permission.INTEGRATIONS_READ, Permission.INTEGRATIONS_MANAGE
RULE = {
    "name": "r",
    "trigger": {"event": "lead.created"},
    "actions": [{"emit": {"type": "a.b"}}],
}
RANGE = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
# (method, path, permission, body, answer when allowed)
ROUTES: list[tuple[str, str, Permission, Any, int]] = [
    ("GET", "/api/v1/webhook-endpoints", MANAGE, None, 200),
    ("POST", "/api/v1/webhook-endpoints", MANAGE, {"url": "http://127.0.0.1:9/x"}, 422),
    ("GET", f"/api/v1/webhook-endpoints/{E}", MANAGE, None, 404),
    ("PATCH", f"/api/v1/webhook-endpoints/{E}", MANAGE, {"description": "x"}, 404),
    ("DELETE", f"/api/v1/webhook-endpoints/{E}", MANAGE, None, 404),
    ("POST", f"/api/v1/webhook-endpoints/{E}/rotate-secret", MANAGE, None, 404),
    ("GET", f"/api/v1/webhook-endpoints/{E}/deliveries", MANAGE, None, 404),
    ("POST", f"/api/v1/webhook-endpoints/{E}/deliveries/{D}/replay", MANAGE, None, 404),
    ("POST", f"/api/v1/webhook-endpoints/{E}/replay", MANAGE, RANGE, 404),
    ("GET", "/api/v1/alerts", READ, None, 200),
    ("POST", f"/api/v1/alerts/{A}/acknowledge", Permission.SYNC_OPERATE, None, 404),
    ("GET", "/api/v1/rules", READ, None, 200),
    ("POST", "/api/v1/rules", MANAGE, RULE, 201),
    ("GET", "/api/v1/rules/yaml", READ, None, 200),
    ("PUT", "/api/v1/rules/yaml", MANAGE, "rules: []\n", 200),
    ("GET", "/api/v1/rules/templates", READ, None, 200),
    ("POST", "/api/v1/rules/templates/nope", MANAGE, None, 404),
    ("GET", f"/api/v1/rules/{R}", READ, None, 404),
    ("PUT", f"/api/v1/rules/{R}", MANAGE, RULE, 404),
    ("DELETE", f"/api/v1/rules/{R}", MANAGE, None, 404),
    ("GET", f"/api/v1/rules/{R}/versions", READ, None, 404),
    ("GET", f"/api/v1/rules/{R}/runs", READ, None, 404),
    ("POST", f"/api/v1/rules/{R}/test", READ, {}, 404),
]
OPENAPI_PATHS = {(m, p.replace("/templates/nope", "/templates/{name}")) for m, p, *_ in ROUTES}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_matrix(client: TestClient, tenant: Tenant, role: Role) -> None:
    for method, template, permission, body, when_allowed in ROUTES:
        path = template.replace(D, "12345")
        for name in (E, A, R):
            path = path.replace(name, str(uuid.uuid4()))
        kwargs: dict[str, Any] = {}
        if isinstance(body, str):
            kwargs["content"] = body
        elif isinstance(body, dict):
            named = {"name": f"r-{uuid.uuid4().hex[:6]}"} if "name" in body else {}
            kwargs["json"] = {**body, **named}
        answer = client.request(method, path, headers=tenant.headers(role), **kwargs)
        if permission in PERMISSIONS[role]:
            assert answer.status_code == when_allowed, (role, method, path, answer.text)
        else:
            assert answer.status_code == 403, (role, method, path, answer.text)
