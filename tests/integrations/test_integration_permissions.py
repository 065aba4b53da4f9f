"""Every integrations and OAuth route against every role: the permission it needs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from crmsync.sandbox.server import SandboxServer
from tests.conftest import Tenant

READ, MANAGE = Permission.INTEGRATIONS_READ, Permission.INTEGRATIONS_MANAGE
ONE = "/api/v1/integrations/{integration_id}"

# (method, OpenAPI path, permission needed; None: no API key, the sealed state decides)
ROUTES: list[tuple[str, str, Permission | None]] = [
    ("GET", "/api/v1/integrations", READ),
    ("POST", "/api/v1/integrations", MANAGE),
    ("GET", ONE, READ),
    ("PATCH", ONE, MANAGE),
    ("DELETE", ONE, MANAGE),
    ("POST", f"{ONE}/test", MANAGE),
    ("GET", f"{ONE}/fields", READ),
    ("POST", f"{ONE}/refresh", MANAGE),
    ("GET", "/api/v1/oauth/{provider}/authorize", MANAGE),
    ("POST", "/api/v1/oauth/{provider}/authorize", MANAGE),
    ("POST", f"{ONE}/proxy", Permission.INTEGRATIONS_PROXY),
    ("GET", "/api/v1/oauth/{provider}/callback", None),
]


def test_routes_cover_every_integrations_and_oauth_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    found = {
        (method.upper(), path)
        for path, methods in spec["paths"].items()
        if path.startswith(("/api/v1/integrations", "/api/v1/oauth"))
        for method in methods
    }
    # Sync and mapping routes under /integrations/{id}/ are in the main matrix (tests/api).
    elsewhere = ("sync", "sync-status", "sync-logs", "mappings", "suggest-mappings", "health")
    elsewhere += ("leads/attribution",)  # in the attribution matrix (tests/marketing)
    elsewhere += ("owners", "owners/refresh")  # in the owners matrix (tests/owners)
    elsewhere += ("setup",)  # in the setup matrix (test_setup_permissions)
    sync_routes = {f"/api/v1/integrations/{{integration_id}}/{s}" for s in elsewhere}
    assert {r for r in found if r[1] not in sync_routes} == {(m, p) for m, p, _ in ROUTES}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_gets_what_its_permissions_allow(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, role: Role
) -> None:
    # the sandbox stands in for HubSpot: allowed calls that reach the CRM stay on loopback
    body = {
        "provider": "hubspot",
        "name": "x",
        "credentials": {"access_token": "t"},
        "base_url": hubspot.url("hubspot"),
    }
    iid = api.post("/api/v1/integrations", json=body, headers=tenant.headers()).json()["id"]
    for method, template, permission in ROUTES:
        path = template.replace("{integration_id}", iid).replace("{provider}", "hubspot")
        json = {"name": "y"} if method == "PATCH" else body if method == "POST" else None
        answer = api.request(method, path, json=json, headers=tenant.headers(role))
        if permission is None or permission in PERMISSIONS[role]:
            assert answer.status_code not in (401, 403), (role, method, path, answer.text)
        else:
            assert answer.status_code == 403, (role, method, path, answer.text)
            assert answer.json()["error"]["details"] == {"required": permission.value}
