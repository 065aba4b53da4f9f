"""The setup routes against every role (the API-wide test collects this matrix)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from tests.conftest import Tenant
from tests.integrations.conftest import create_hubspot

SETUP = "/api/v1/integrations/{integration_id}/setup"
# (method, OpenAPI path, permission, answer when allowed)
ROUTES: list[tuple[str, str, Permission, int]] = [
    ("GET", SETUP, Permission.INTEGRATIONS_READ, 200),
    ("POST", SETUP, Permission.INTEGRATIONS_MANAGE, 200),
]
OPENAPI_PATHS = {(m, p) for m, p, *_ in ROUTES}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_matrix(api: TestClient, tenant: Tenant, sandbox: HubSpotSandbox, role: Role) -> None:
    made = create_hubspot(api, tenant, sandbox.base_url or "", sandbox.tokens.private_token)
    for method, template, permission, allowed in ROUTES:
        path = template.replace("{integration_id}", made["id"])
        answer = api.request(method, path, headers=tenant.headers(role))
        if permission in PERMISSIONS[role]:
            assert answer.status_code == allowed, (role, method, answer.text)
        else:
            assert answer.status_code == 403, (role, method, answer.text)


def test_another_workspaces_integration_is_not_found(
    api: TestClient, make_tenant: Callable[[], Tenant], sandbox: HubSpotSandbox
) -> None:
    tenant, other_tenant = make_tenant(), make_tenant()
    made = create_hubspot(api, tenant, sandbox.base_url or "", sandbox.tokens.private_token)
    path = SETUP.replace("{integration_id}", made["id"])
    assert api.get(path, headers=other_tenant.headers()).status_code == 404
    assert api.post(path, headers=other_tenant.headers()).status_code == 404
