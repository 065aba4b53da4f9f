"""The marketing endpoints' role matrix (the API-wide test checks every route is in
one of these lists)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from tests.conftest import Tenant

RULE = {"event_type": "lead.created", "journeys": {"names": ["Welcome"]}}
RULES_YAML = "rules:\n  - name: r\n    on: lead.created\n    enroll: {names: [Welcome]}\n"
C, J, R = "{contact_id}", "{journey_id}", "{rule_id}"
# (method, path, permission, body, answer when allowed)
ROUTES: list[tuple[str, str, Permission, Any, int]] = [
    ("GET", "/api/v1/journeys", Permission.RECORDS_READ, None, 200),
    ("POST", "/api/v1/journeys/refresh", Permission.MARKETING_MANAGE, None, 200),
    ("GET", "/api/v1/journeys/performance", Permission.MARKETING_MANAGE, None, 200),
    ("GET", f"/api/v1/journeys/{J}", Permission.RECORDS_READ, None, 404),
    ("GET", f"/api/v1/contacts/{C}/journeys", Permission.RECORDS_READ, None, 404),
    ("POST", f"/api/v1/contacts/{C}/journeys/{J}/enroll", Permission.RECORDS_WRITE, None, 404),
    ("DELETE", f"/api/v1/contacts/{C}/journeys/{J}", Permission.RECORDS_WRITE, None, 404),
    ("GET", f"/api/v1/contacts/{C}/engagement", Permission.RECORDS_READ, None, 404),
    ("POST", "/api/v1/engagement/recompute", Permission.MARKETING_MANAGE, None, 200),
    ("GET", "/api/v1/stats/contacts", Permission.MARKETING_MANAGE, None, 200),
    ("GET", "/api/v1/marketing/settings", Permission.RECORDS_READ, None, 200),
    ("PUT", "/api/v1/marketing/settings", Permission.MARKETING_MANAGE, {}, 200),
    ("GET", "/api/v1/trigger-rules", Permission.INTEGRATIONS_READ, None, 200),
    ("POST", "/api/v1/trigger-rules", Permission.MARKETING_MANAGE, RULE, 201),
    ("GET", "/api/v1/trigger-rules.yaml", Permission.INTEGRATIONS_READ, None, 200),
    ("PUT", "/api/v1/trigger-rules.yaml", Permission.MARKETING_MANAGE, RULES_YAML, 200),
    ("GET", "/api/v1/trigger-rules/firings", Permission.INTEGRATIONS_READ, None, 200),
    ("GET", f"/api/v1/trigger-rules/{R}", Permission.INTEGRATIONS_READ, None, 404),
    ("PUT", f"/api/v1/trigger-rules/{R}", Permission.MARKETING_MANAGE, RULE, 404),
    ("DELETE", f"/api/v1/trigger-rules/{R}", Permission.MARKETING_MANAGE, None, 404),
]


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_matrix(client: TestClient, tenant: Tenant, role: Role) -> None:
    for method, template, permission, body, when_allowed in ROUTES:
        path = template
        for name in (C, J, R):
            path = path.replace(name, str(uuid.uuid4()))
        kwargs: dict[str, Any] = {}
        if isinstance(body, str):
            kwargs["content"] = body
        elif isinstance(body, dict):
            kwargs["json"] = {**body, "name": f"rule-{uuid.uuid4().hex[:6]}"} if body else body
        answer = client.request(method, path, headers=tenant.headers(role), **kwargs)
        if permission in PERMISSIONS[role]:
            assert answer.status_code == when_allowed, (role, method, path, answer.text)
        else:
            assert answer.status_code == 403, (role, method, path, answer.text)
            assert answer.json()["error"]["details"] == {"required": permission.value}


def test_another_workspace_sees_nothing(
    client: TestClient, tenant: Tenant, make_tenant: Any
) -> None:
    made = client.post(
        "/api/v1/trigger-rules", json={**RULE, "name": "mine"}, headers=tenant.headers()
    )
    assert made.status_code == 201
    other = make_tenant()
    rule_path = f"/api/v1/trigger-rules/{made.json()['id']}"
    assert client.get(rule_path, headers=other.headers()).status_code == 404
    assert client.get("/api/v1/trigger-rules", headers=other.headers()).json()["items"] == []
    contact = client.post("/api/v1/contacts", json={"last_name": "X"}, headers=tenant.headers())
    engagement = f"/api/v1/contacts/{contact.json()['id']}/engagement"
    assert client.get(engagement, headers=other.headers()).status_code == 404
