"""``POST /api/v1/integrations/{id}/proxy`` against the HubSpot sandbox, over sockets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import Permission, Role
from crmsync.integrations.proxy import check_path
from crmsync.records.errors import RecordInvalid
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from tests.conftest import Tenant
from tests.integrations.conftest import create_hubspot


@pytest.fixture
def connected(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, sandbox: HubSpotSandbox
) -> str:
    made = create_hubspot(api, tenant, hubspot.url("hubspot"), sandbox.tokens.private_token)
    return str(made["id"])


def proxy(api: TestClient, tenant: Tenant, iid: str, role: Role = Role.ADMIN, **body: Any) -> Any:
    return api.post(f"/api/v1/integrations/{iid}/proxy", json=body, headers=tenant.headers(role))


def test_a_request_goes_through_with_the_stored_credentials(
    api: TestClient, tenant: Tenant, connected: str, sandbox: HubSpotSandbox
) -> None:
    sent = sandbox.request_log.total
    made = proxy(
        api,
        tenant,
        connected,
        method="POST",
        path="/crm/v3/objects/contacts",
        body={"properties": {"email": "proxy@example.com", "firstname": "Pro"}},
    )
    assert made.status_code == 200, made.text
    answer = made.json()
    assert answer["status"] == 201 and answer["error"] is None
    assert answer["headers"]["content-type"].startswith("application/json")
    remote_id = answer["body"]["id"]
    read = proxy(
        api,
        tenant,
        connected,
        path=f"/crm/v3/objects/contacts/{remote_id}",
        query={"properties": ["email", "firstname"]},
    ).json()
    assert read["status"] == 200
    assert read["body"]["properties"]["email"] == "proxy@example.com"
    assert any(h.startswith("x-hubspot-ratelimit-") for h in read["headers"])
    assert sandbox.counts()["contacts"] == 1
    assert sandbox.request_log.total == sent + 2


def test_only_admins_may_use_it(api: TestClient, tenant: Tenant, connected: str) -> None:
    for role in (Role.MANAGER, Role.AGENT, Role.VIEWER):
        answer = proxy(api, tenant, connected, role, path="/crm/v3/owners")
        assert answer.status_code == 403, (role, answer.text)
        assert answer.json()["error"]["details"] == {
            "required": Permission.INTEGRATIONS_PROXY.value
        }


def test_another_workspaces_integration_is_not_found(
    api: TestClient, connected: str, make_tenant: Callable[[], Tenant]
) -> None:
    other = make_tenant()
    assert proxy(api, other, connected, path="/crm/v3/owners").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "https://evil.example/crm/v3/owners",
        "//evil.example/crm/v3/owners",
        "/../admin",
        "/crm/%2e%2e/%2e%2e/admin",
        "/crm/%252e%252e/admin",
        "/crm\\v3",
        "/crm/v3/owners?hapikey=x",
        "/crm v3",
        "/http:%2f%2fevil.example/x",
        "crm/v3/owners",
    ],
)
def test_no_other_host_or_path_trickery(
    api: TestClient, tenant: Tenant, connected: str, sandbox: HubSpotSandbox, path: str
) -> None:
    before = sandbox.request_log.total
    answer = proxy(api, tenant, connected, path=path)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"] == {"field": "path"}
    assert sandbox.request_log.total == before  # nothing was sent


def test_credentials_and_hop_headers_cannot_be_set(
    api: TestClient, tenant: Tenant, connected: str
) -> None:
    for name in ("Authorization", "Host", "Cookie", "X-Api-Token"):
        answer = proxy(api, tenant, connected, path="/crm/v3/owners", headers={name: "x"})
        assert answer.status_code == 422 and answer.json()["error"]["details"] == {
            "field": "headers"
        }
    bad = proxy(api, tenant, connected, method="TRACE", path="/crm/v3/owners")
    assert bad.status_code == 422 and bad.json()["error"]["details"] == {"field": "method"}


def test_crm_errors_come_back_classified(
    api: TestClient, tenant: Tenant, connected: str, sandbox: HubSpotSandbox
) -> None:
    missing = proxy(api, tenant, connected, path="/crm/v3/objects/contacts/999999999").json()
    assert missing["status"] == 404
    assert (missing["error"]["class"], missing["error"]["action"]) == ("NotFound", "relink")
    assert missing["body"]  # the CRM's own error body
    invalid = proxy(
        api,
        tenant,
        connected,
        method="POST",
        path="/crm/v3/objects/contacts",
        body={"properties": {"no_such_property": "x"}},
    ).json()
    assert invalid["status"] == 400 and invalid["error"]["class"] == "InvalidRecord"
    sandbox.faults.force("503", 1, "/crm/v3/objects/contacts")
    failed = proxy(
        api, tenant, connected, method="POST", path="/crm/v3/objects/contacts", body={}
    ).json()  # a POST is not repeated
    assert failed["status"] == 503 and failed["error"]["class"] == "Transient"


def test_refused_credentials_turn_the_integration_needs_auth(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, sandbox: HubSpotSandbox
) -> None:
    made = create_hubspot(api, tenant, hubspot.url("hubspot"), "pat-na1-revoked")
    answer = proxy(api, tenant, made["id"], path="/crm/v3/owners").json()
    assert answer["status"] == 401 and answer["error"]["class"] == "AuthError"
    shown = api.get(f"/api/v1/integrations/{made['id']}", headers=tenant.headers()).json()
    assert shown["status"] == "needs_auth"


def test_check_path_keeps_plain_paths() -> None:
    for path in ("/crm/v3/objects/contacts", "/services/data/v59.0/sobjects/Contact/003x"):
        assert check_path(path) == path
    with pytest.raises(RecordInvalid):
        check_path("/a/./b")
