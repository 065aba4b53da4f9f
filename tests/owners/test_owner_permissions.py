"""The role matrix of the owners routes (the API-wide test checks every route is in one
of these lists)."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from tests.conftest import Tenant

INTEGRATION = "{integration_id}"
# (method, path, permission, answer when allowed: no such integration)
ROUTES: list[tuple[str, str, Permission, int]] = [
    ("GET", f"/api/v1/integrations/{INTEGRATION}/owners", Permission.INTEGRATIONS_READ, 404),
    ("POST", f"/api/v1/integrations/{INTEGRATION}/owners/refresh", Permission.SYNC_OPERATE, 404),
]
OPENAPI_PATHS = {(m, p) for m, p, *_ in ROUTES}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_matrix(client: TestClient, tenant: Tenant, role: Role) -> None:
    for method, template, permission, when_allowed in ROUTES:
        path = template.replace(INTEGRATION, str(uuid.uuid4()))
        answer = client.request(method, path, headers=tenant.headers(role))
        if permission in PERMISSIONS[role]:
            assert answer.status_code == when_allowed, (role, method, path, answer.text)
        else:
            assert answer.status_code == 403, (role, method, path, answer.text)
