"""The attribution endpoints' role matrix (the API-wide test checks every route is in
one of these lists)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from tests.conftest import Tenant

C, L, I = "{campaign_id}", "{record_id}", "{integration_id}"  # noqa: E741
TOUCH = {"items": [{"contact_ref": "nobody", "channel": "web"}]}
# (method, path, permission, body, answer when allowed)
ROUTES: list[tuple[str, str, Permission, Any, int]] = [
    ("POST", "/api/v1/touchpoints", Permission.EVENTS_WRITE, TOUCH, 200),
    ("GET", "/api/v1/touchpoints", Permission.RECORDS_READ, None, 422),
    ("GET", "/api/v1/campaigns", Permission.RECORDS_READ, None, 200),
    ("POST", "/api/v1/campaigns", Permission.RECORDS_WRITE, {"name": "n"}, 201),
    ("GET", "/api/v1/campaigns/performance", Permission.RECORDS_READ, None, 200),
    ("GET", f"/api/v1/campaigns/{C}", Permission.RECORDS_READ, None, 404),
    ("PATCH", f"/api/v1/campaigns/{C}", Permission.RECORDS_WRITE, {"channel": "x"}, 404),
    ("DELETE", f"/api/v1/campaigns/{C}", Permission.RECORDS_DELETE, None, 404),
    ("POST", "/api/v1/campaigns/crm/refresh", Permission.RECORDS_WRITE, None, 200),
    (
        "PUT",
        f"/api/v1/campaigns/{C}/crm-links",
        Permission.RECORDS_WRITE,
        {"integration_id": str(uuid.uuid4()), "remote_id": "701x"},
        404,
    ),
    ("GET", "/api/v1/attribution", Permission.RECORDS_READ, None, 200),
    ("GET", f"/api/v1/attribution/leads/{L}", Permission.RECORDS_READ, None, 404),
    (
        "POST",
        f"/api/v1/integrations/{I}/leads/attribution",
        Permission.RECORDS_WRITE,
        {"lead_ids": [str(uuid.uuid4())]},
        404,
    ),
]
OPENAPI_PATHS = {
    (m, p.replace("/leads/{record_id}", "/{record_type}/{record_id}")) for m, p, *_ in ROUTES
}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_matrix(client: TestClient, tenant: Tenant, role: Role) -> None:
    for method, template, permission, body, when_allowed in ROUTES:
        path = template
        for name in (C, L, I):
            path = path.replace(name, str(uuid.uuid4()))
        if isinstance(body, dict) and "name" in body:
            body = {"name": f"c-{uuid.uuid4().hex[:6]}"}
        answer = client.request(method, path, json=body, headers=tenant.headers(role))
        if permission in PERMISSIONS[role]:
            assert answer.status_code == when_allowed, (role, method, path, answer.text)
        else:
            assert answer.status_code == 403, (role, method, path, answer.text)
