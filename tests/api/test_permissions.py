"""The permission table as a role x endpoint matrix, over a real app on each database."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from crmsync.mapping.defaults import default_mapping
from tests.bus.test_sources_api import ROUTES as SOURCE_ROUTES
from tests.conftest import Tenant
from tests.dedup.test_dedup_api import ROUTES as DEDUP_ROUTES
from tests.imports.test_api import IMPORT_ROUTES
from tests.integrations.test_integration_permissions import ROUTES as INTEGRATION_ROUTES
from tests.integrations.test_setup_permissions import OPENAPI_PATHS as SETUP_ROUTES
from tests.marketing.test_attribution_permissions import OPENAPI_PATHS as ATTRIBUTION_ROUTES
from tests.marketing.test_marketing_permissions import ROUTES as MARKETING_ROUTES
from tests.outbound.test_permissions import OPENAPI_PATHS as OUTBOUND_ROUTES
from tests.owners.test_owner_permissions import OPENAPI_PATHS as OWNER_ROUTES
from tests.records.test_action_permissions import OPENAPI_PATHS as RECORD_ACTION_ROUTES

SAMPLES: dict[str, dict[str, Any]] = {
    "contacts": {"email": "p@example.com"},
    "companies": {"name": "Acme"},
    "leads": {"first_name": "Lee"},
    "deals": {"name": "Deal"},
    "activities": {"type": "call"},
    "notes": {"body": "hello"},
    "tickets": {"subject": "help"},
    "properties": {"title": "12 Elm Street"},
}

# (method, path template, body, permission it needs); {id} is a record made for the call.
ENDPOINTS: list[tuple[str, str, Any, Permission]] = [
    ("POST", "/api/v1/events", {"type": "lead.created", "data": {}}, Permission.EVENTS_WRITE),
    ("GET", "/api/v1/sync-jobs", None, Permission.INTEGRATIONS_READ),
    ("POST", "/api/v1/sync-jobs/{job_id}/replay", None, Permission.SYNC_OPERATE),
    ("POST", "/api/v1/sync-jobs/replay-all", None, Permission.SYNC_OPERATE),
    ("GET", "/api/v1/conflicts", None, Permission.INTEGRATIONS_READ),
    ("POST", "/api/v1/integrations/{integration_id}/sync", None, Permission.SYNC_OPERATE),
    (
        "GET",
        "/api/v1/integrations/{integration_id}/sync-status",
        None,
        Permission.INTEGRATIONS_READ,
    ),
    ("GET", "/api/v1/integrations/{integration_id}/sync-logs", None, Permission.INTEGRATIONS_READ),
    ("GET", "/api/v1/integrations/{integration_id}/health", None, Permission.INTEGRATIONS_READ),
    ("GET", "/api/v1/integrations/{integration_id}/mappings", None, Permission.INTEGRATIONS_READ),
    (
        "PUT",
        "/api/v1/integrations/{integration_id}/mappings",
        default_mapping("hubspot").model_dump(mode="json"),
        Permission.INTEGRATIONS_MANAGE,
    ),
    (
        "POST",
        "/api/v1/integrations/{integration_id}/suggest-mappings",
        {"object_type": "contacts", "fields": ["E-mail"]},
        Permission.INTEGRATIONS_READ,
    ),
    (
        "POST",
        "/api/v1/mappings/suggest",
        {"object_type": "contacts", "fields": ["E-mail"]},
        Permission.RECORDS_READ,
    ),
    (
        "POST",
        "/api/v1/conflicts/{conflict_id}/resolve",
        {"resolution": "local"},
        Permission.SYNC_OPERATE,
    ),
]
# Endpoints that need an object the matrix does not make answer 404 when allowed.
NOT_FOUND_WHEN_ALLOWED = {
    "/api/v1/integrations/{integration_id}/mappings",
    "/api/v1/integrations/{integration_id}/suggest-mappings",
    "/api/v1/integrations/{integration_id}/sync",
    "/api/v1/integrations/{integration_id}/sync-status",
    "/api/v1/integrations/{integration_id}/sync-logs",
    "/api/v1/integrations/{integration_id}/health",
    "/api/v1/sync-jobs/{job_id}/replay",
    "/api/v1/conflicts/{conflict_id}/resolve",
}
for _t, _body in SAMPLES.items():
    ENDPOINTS += [
        ("GET", f"/api/v1/{_t}", None, Permission.RECORDS_READ),
        ("GET", f"/api/v1/{_t}/{{id}}", None, Permission.RECORDS_READ),
        ("POST", f"/api/v1/{_t}", _body, Permission.RECORDS_WRITE),
        ("POST", f"/api/v1/{_t}/batch", {"items": [_body]}, Permission.RECORDS_WRITE),
        ("PATCH", f"/api/v1/{_t}/{{id}}", {"external_ref": None}, Permission.RECORDS_WRITE),
        ("DELETE", f"/api/v1/{_t}/{{id}}", None, Permission.RECORDS_DELETE),
    ]


def _record_type(path: str) -> str:
    return path.split("/")[3]


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_matrix(client: TestClient, tenant: Tenant, role: Role) -> None:
    for method, template, body, permission in ENDPOINTS:
        path = template.replace("{job_id}", "999999999").replace("{conflict_id}", str(uuid.uuid4()))
        path = path.replace("{integration_id}", str(uuid.uuid4()))
        if "{id}" in template:
            record_type = _record_type(template)
            made = client.post(
                f"/api/v1/{record_type}", json=SAMPLES[record_type], headers=tenant.headers()
            )
            assert made.status_code == 201, made.text
            path = template.replace("{id}", made.json()["id"])
        answer = client.request(method, path, json=body, headers=tenant.headers(role))
        allowed = permission in PERMISSIONS[role]
        if allowed and template in NOT_FOUND_WHEN_ALLOWED:
            assert answer.status_code == 404, (role, method, path, answer.text)
        elif allowed:
            assert answer.status_code < 300, (role, method, path, answer.text)
        else:
            assert answer.status_code == 403, (role, method, path, answer.text)
            assert answer.json()["error"]["details"] == {"required": permission.value}


def test_every_api_route_is_in_the_matrix(client: TestClient) -> None:
    """A new endpoint must be added to the matrix (and so to the permission table)."""
    spec = client.get("/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, methods in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method in methods
    }
    covered = {(m, re.sub(r"\{id\}", "{record_id}", p)) for m, p, _b, _perm in ENDPOINTS}
    # Integration routes have their own role matrix, next to the integration tests.
    covered |= {(m, p) for m, p, _ in INTEGRATION_ROUTES}
    # Import routes have theirs next to the import tests.
    covered |= {(m, p) for m, p, _perm in IMPORT_ROUTES}
    # Duplicates and merge routes have theirs next to the dedup tests.
    covered |= {(m, p) for m, p, _perm in DEDUP_ROUTES}
    # Event-bus sources have theirs next to the bus tests.
    covered |= {(m, p) for m, p, _perm in SOURCE_ROUTES}
    # Marketing routes have theirs next to the marketing tests.
    covered |= {(m, p) for m, p, *_rest in MARKETING_ROUTES}
    # Attribution routes have theirs next to the attribution tests.
    covered |= ATTRIBUTION_ROUTES
    # Webhook endpoints, alerts and rules have theirs next to their tests (tests/outbound).
    covered |= OUTBOUND_ROUTES
    # A record's history and push-now, and an integration's owners, next to their tests.
    covered |= RECORD_ACTION_ROUTES | OWNER_ROUTES
    # CRMs authenticate webhook deliveries with their own schemes (tests/e2e).
    covered.add(("POST", "/api/v1/webhooks/{provider}/{integration_id}"))
    covered.add(("POST", "/api/v1/webhooks/salesforce/{integration_id}/outbound-messages"))
    # Integration setup has its matrix next to the integration tests.
    covered |= SETUP_ROUTES
    assert routes == covered


@pytest.mark.parametrize("header", ["", "Bearer", "Basic abc", "Bearer csk_nope_nope", "Bearer x"])
def test_missing_or_bad_key_is_401(client: TestClient, header: str) -> None:
    answer = client.get("/api/v1/contacts", headers={"Authorization": header} if header else {})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


def test_revoked_key_is_401(client: TestClient, tenant: Tenant, db: Any) -> None:
    from crmsync.auth.keys import authenticate, revoke_api_key

    key = tenant.keys[Role.AGENT]
    assert client.get("/api/v1/contacts", headers=tenant.headers(Role.AGENT)).status_code == 200
    principal = authenticate(db, key)
    assert principal is not None
    assert revoke_api_key(db, tenant.id, principal.key_id)
    db.commit()
    assert client.get("/api/v1/contacts", headers=tenant.headers(Role.AGENT)).status_code == 401
    # A workspace cannot revoke another's key.
    assert not revoke_api_key(db, uuid.uuid4(), principal.key_id)


def test_permissions_doc_matches_the_table() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "permissions.md").read_text()
    for permission in Permission:
        row = next(
            (line for line in doc.splitlines() if line.startswith(f"| `{permission.value}`")),
            None,
        )
        assert row is not None, f"{permission.value} missing from docs/permissions.md"
        cells = [c.strip() for c in row.strip("|").split("|")][1:5]
        expected = ["yes" if permission in PERMISSIONS[r] else "-" for r in Role]
        assert cells == expected, permission.value
