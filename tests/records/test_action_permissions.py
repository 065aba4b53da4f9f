"""The role matrix of a record's history and push-now routes (the API-wide test checks
every route is in one of these lists)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from crmsync.records.schemas import CREATE_SCHEMAS
from tests.conftest import Tenant

SAMPLES = {
    "contacts": {"email": "p@example.com"},
    "companies": {"name": "Acme"},
    "leads": {"first_name": "Lee"},
    "deals": {"name": "Deal"},
    "activities": {"type": "call"},
    "notes": {"body": "hello"},
    "tickets": {"subject": "help"},
    "properties": {"title": "12 Elm Street"},
}
# (method, path, permission, answer when allowed); every type, with a record of it
ROUTES: list[tuple[str, str, Permission, int]] = [
    route
    for t in CREATE_SCHEMAS
    for route in (
        ("GET", f"/api/v1/{t}/{{record_id}}/history", Permission.RECORDS_READ, 200),
        ("POST", f"/api/v1/{t}/{{record_id}}/sync", Permission.SYNC_OPERATE, 200),
    )
]
OPENAPI_PATHS = {(m, p) for m, p, *_ in ROUTES}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_matrix(client: TestClient, tenant: Tenant, role: Role) -> None:
    for method, template, permission, when_allowed in ROUTES:
        record_type = template.split("/")[3]
        made = client.post(
            f"/api/v1/{record_type}", json=SAMPLES[record_type], headers=tenant.headers()
        )
        assert made.status_code == 201, made.text
        path = template.replace("{record_id}", made.json()["id"])
        answer = client.request(method, path, headers=tenant.headers(role))
        if permission in PERMISSIONS[role]:
            assert answer.status_code == when_allowed, (role, method, path, answer.text)
        else:
            assert answer.status_code == 403, (role, method, path, answer.text)
            assert answer.json()["error"]["details"] == {"required": permission.value}
