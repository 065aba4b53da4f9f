"""``/api/v1/sources``: listed with status, configured and paused by admins only, per workspace."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from tests.conftest import Tenant

# (method, path, permission): the sources routes, for the permission matrix.
ROUTES: list[tuple[str, str, Permission]] = [
    ("GET", "/api/v1/sources", Permission.INTEGRATIONS_READ),
    ("POST", "/api/v1/sources", Permission.WORKSPACE_ADMIN),
    ("GET", "/api/v1/sources/{source_id}", Permission.INTEGRATIONS_READ),
    ("POST", "/api/v1/sources/{source_id}/pause", Permission.WORKSPACE_ADMIN),
    ("POST", "/api/v1/sources/{source_id}/resume", Permission.WORKSPACE_ADMIN),
]

SOURCE = {
    "name": "leads",
    "url": "redis://app:s3cret@127.0.0.1:6379/0",
    "stream": "lead-events",
    "enabled": False,  # (the worker's bus must not run it in other tests)
}


def test_admin_configures_and_pauses_others_read(client: TestClient, tenant: Tenant) -> None:
    made = client.post("/api/v1/sources", json=SOURCE, headers=tenant.headers())
    assert made.status_code == 201, made.text
    source = made.json()
    assert source["url"] == "redis://app:***@127.0.0.1:6379/0"
    assert (source["kind"], source["dead_letters"], source["status"]) == (
        "redis",
        "lead-events.dead",
        "idle",
    )
    listed = client.get("/api/v1/sources", headers=tenant.headers(Role.VIEWER)).json()["items"]
    assert [s["id"] for s in listed] == [source["id"]]
    assert "s3cret" not in str(listed)
    for role in (Role.VIEWER, Role.AGENT, Role.MANAGER):
        denied = client.post(f"/api/v1/sources/{source['id']}/pause", headers=tenant.headers(role))
        assert denied.status_code == 403
    paused = client.post(f"/api/v1/sources/{source['id']}/pause", headers=tenant.headers())
    assert paused.json()["paused"] is True
    shown = client.get(f"/api/v1/sources/{source['id']}", headers=tenant.headers()).json()
    assert shown["paused"] is True
    resumed = client.post(f"/api/v1/sources/{source['id']}/resume", headers=tenant.headers())
    assert resumed.json()["paused"] is False
    again = client.post(
        "/api/v1/sources", json={**SOURCE, "stream": "other"}, headers=tenant.headers()
    )
    assert again.json()["id"] == source["id"] and again.json()["stream"] == "other"


def test_another_workspace_sees_nothing(
    client: TestClient, make_tenant: Callable[[], Tenant]
) -> None:
    mine, theirs = make_tenant(), make_tenant()
    source = client.post("/api/v1/sources", json=SOURCE, headers=mine.headers()).json()
    assert client.get("/api/v1/sources", headers=theirs.headers()).json()["items"] == []
    for path in ("", "/pause", "/resume"):
        method = client.get if not path else client.post
        answer = method(f"/api/v1/sources/{source['id']}{path}", headers=theirs.headers())
        assert answer.status_code == 404


def test_unknown_broker_scheme_is_refused(client: TestClient, tenant: Tenant) -> None:
    answer = client.post(
        "/api/v1/sources", json={**SOURCE, "url": "mqtt://x"}, headers=tenant.headers()
    )
    assert answer.status_code == 422
    assert "unknown broker URL scheme" in answer.json()["error"]["message"]
    assert client.get("/api/v1/sources").status_code == 401


@pytest.mark.parametrize("role", list(Role))
def test_role_matrix(client: TestClient, tenant: Tenant, role: Role) -> None:
    source = client.post("/api/v1/sources", json=SOURCE, headers=tenant.headers()).json()
    for method, template, permission in ROUTES:
        path = template.replace("{source_id}", source["id"])
        body = SOURCE if method == "POST" and template == "/api/v1/sources" else None
        answer = client.request(method, path, json=body, headers=tenant.headers(role))
        if permission in PERMISSIONS[role]:
            assert answer.status_code in (200, 201), (role, path, answer.text)
        else:
            assert answer.status_code == 403, (role, path)
            assert answer.json()["error"]["details"] == {"required": permission.value}
