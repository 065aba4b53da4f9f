"""``/api/v1/integrations``: CRUD, masking, permissions, tenancy, SSRF, test and fields."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.integrations.schemas import IntegrationCreate
from crmsync.integrations.service import create_integration
from crmsync.integrations.vault import Vault
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import session_scope
from tests.conftest import Tenant
from tests.integrations.conftest import create_hubspot

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


def test_create_defaults_to_the_real_api_and_masks_credentials(
    client: TestClient, tenant: Tenant
) -> None:
    body = {"provider": "hubspot", "name": "Main", "credentials": {"access_token": TOKEN}}
    made = client.post("/api/v1/integrations", json=body, headers=tenant.headers())
    assert made.status_code == 201, made.text
    out = made.json()
    assert out["base_url"] == "https://api.hubapi.com"
    assert out["status"] == "connected"
    assert out["credentials"] == {"access_token": "pat-…5555"}
    assert TOKEN not in made.text
    assert out["config"]["conflict_policy"] == "last_write_wins"
    listed = client.get("/api/v1/integrations", headers=tenant.headers(Role.VIEWER)).json()
    assert [i["id"] for i in listed["items"]] == [out["id"]]
    assert TOKEN not in str(listed)


def test_patch_changes_only_what_is_sent_and_delete_removes(
    client: TestClient, tenant: Tenant
) -> None:
    body = {"provider": "hubspot", "name": "Main", "credentials": {"access_token": TOKEN}}
    iid = client.post("/api/v1/integrations", json=body, headers=tenant.headers()).json()["id"]
    new_token = "pat-na1-99999999-8888-7777-6666-000000000000"
    patched = client.patch(
        f"/api/v1/integrations/{iid}",
        json={"name": "Renamed", "credentials": {"access_token": new_token}, "status": "disabled"},
        headers=tenant.headers(Role.MANAGER),
    )
    assert patched.status_code == 200, patched.text
    out = patched.json()
    assert (out["name"], out["status"]) == ("Renamed", "disabled")
    assert out["credentials"]["access_token"] == "pat-…0000"
    assert out["base_url"] == "https://api.hubapi.com"
    gone = client.delete(f"/api/v1/integrations/{iid}", headers=tenant.headers())
    assert gone.status_code == 204
    assert client.get(f"/api/v1/integrations/{iid}", headers=tenant.headers()).status_code == 404


def test_bad_input_is_refused_with_what_is_wrong(client: TestClient, tenant: Tenant) -> None:
    cases = [
        ({"provider": "zoho", "name": "x", "credentials": {"api_key": "k"}}, "unknown provider"),
        ({"provider": "hubspot", "name": "x", "credentials": {}}, "need access_token"),
        (
            {"provider": "hubspot", "name": "x", "credentials": {"access_token": "t", "pw": "x"}},
            "unknown credentials",
        ),
        (
            {
                "provider": "pipedrive",
                "name": "x",
                "credentials": {"api_token": "t"},
                "base_url": "https://10.0.0.8",
            },
            "base_url refused",
        ),
        (
            {
                "provider": "hubspot",
                "name": "x",
                "credentials": {"access_token": "t"},
                "base_url": "http://127.0.0.1:9",
            },
            "sandbox mode",
        ),
        (
            {"provider": "rest", "name": "x", "credentials": {"api_key": "k"}},
            "need a base_url",
        ),
        (
            {
                "provider": "hubspot",
                "name": "x",
                "credentials": {"access_token": "t"},
                "config": {"objects": {"contacts": "sideways"}},
            },
            "config",
        ),
    ]
    for body, expected in cases:
        answer = client.post("/api/v1/integrations", json=body, headers=tenant.headers())
        assert answer.status_code == 422, (body, answer.text)
        assert expected in answer.json()["error"]["message"], answer.text


def test_roles_read_and_manage(client: TestClient, tenant: Tenant) -> None:
    body = {"provider": "hubspot", "name": "x", "credentials": {"access_token": TOKEN}}
    for role in (Role.VIEWER, Role.AGENT):
        refused = client.post("/api/v1/integrations", json=body, headers=tenant.headers(role))
        assert refused.status_code == 403
        assert refused.json()["error"]["details"] == {"required": "integrations:manage"}
    made = client.post("/api/v1/integrations", json=body, headers=tenant.headers(Role.MANAGER))
    iid = made.json()["id"]
    viewer = tenant.headers(Role.VIEWER)
    assert client.get(f"/api/v1/integrations/{iid}", headers=viewer).status_code == 200
    assert client.post(f"/api/v1/integrations/{iid}/test", headers=viewer).status_code == 403
    assert client.delete(f"/api/v1/integrations/{iid}", headers=viewer).status_code == 403


def test_another_workspace_gets_404_everywhere(
    client: TestClient, make_tenant: Callable[[], Tenant]
) -> None:
    a, b = make_tenant(), make_tenant()
    body = {"provider": "hubspot", "name": "x", "credentials": {"access_token": TOKEN}}
    iid = client.post("/api/v1/integrations", json=body, headers=a.headers()).json()["id"]
    base = f"/api/v1/integrations/{iid}"
    for method, path, json in (
        ("GET", base, None),
        ("PATCH", base, {"name": "stolen"}),
        ("DELETE", base, None),
        ("POST", f"{base}/test", None),
        ("GET", f"{base}/fields", None),
        ("POST", f"{base}/refresh", None),
    ):
        answer = client.request(method, path, json=json, headers=b.headers())
        assert answer.status_code == 404, (method, path, answer.text)
    assert client.get("/api/v1/integrations", headers=b.headers()).json()["items"] == []
    assert client.get(base, headers=a.headers()).json()["name"] == "x"


def test_test_and_fields_talk_to_the_crm(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, sandbox: HubSpotSandbox
) -> None:
    url = hubspot.url("hubspot")
    custom = {
        "name": "loan_amount",
        "label": "Loan amount",
        "type": "number",
        "fieldType": "number",
        "groupName": "contactinformation",
    }
    auth = {"Authorization": f"Bearer {sandbox.tokens.private_token}"}
    httpx.post(f"{url}/crm/v3/properties/contacts", json=custom, headers=auth).raise_for_status()
    made = create_hubspot(api, tenant, url, sandbox.tokens.private_token)
    iid = made["id"]
    tested = api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()
    assert tested["ok"] is True and "fields on contacts" in tested["message"]
    listed = api.get(
        f"/api/v1/integrations/{iid}/fields?object=contacts", headers=tenant.headers(Role.VIEWER)
    )
    assert listed.status_code == 200, listed.text
    by_name = {f["name"]: f for f in listed.json()["fields"]}
    assert by_name["loan_amount"]["custom"] is True
    assert by_name["loan_amount"]["type"] == "number"
    assert by_name["email"]["custom"] is False and by_name["email"]["unique"] is True
    unknown = api.get(f"/api/v1/integrations/{iid}/fields?object=widgets", headers=tenant.headers())
    # an object type the CRM does not have is the caller's mistake (422), not the CRM's (502)
    assert unknown.status_code == 422 and "not supported" in unknown.json()["error"]["message"]


def test_refused_credentials_make_the_integration_need_auth(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, sandbox: HubSpotSandbox
) -> None:
    made = create_hubspot(api, tenant, hubspot.url("hubspot"), "pat-na1-revoked")
    iid = made["id"]
    tested = api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()
    assert tested["ok"] is False
    assert "PATCH /api/v1/integrations/" in tested["message"]
    after = api.get(f"/api/v1/integrations/{iid}", headers=tenant.headers()).json()
    assert after["status"] == "needs_auth" and after["last_error"] == tested["message"]
    fixed = api.patch(
        f"/api/v1/integrations/{iid}",
        json={"credentials": {"access_token": sandbox.tokens.private_token}},
        headers=tenant.headers(),
    ).json()
    assert fixed["status"] == "connected" and fixed["last_error"] is None
    again = api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()
    assert again["ok"] is True


def test_credentials_sealed_under_a_lost_key_are_reported_not_crashed(
    client: TestClient, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    lost = Vault.from_secret_key("lost-" + "l" * 40)
    data = IntegrationCreate(provider="hubspot", name="old", credentials={"access_token": TOKEN})
    with session_scope(sessions) as session:
        made = create_integration(session, lost, tenant.id, data, sandbox_mode=False)
    shown = client.get(f"/api/v1/integrations/{made.id}", headers=tenant.headers()).json()
    assert shown["credentials"] is None and shown["name"] == "old"
    tested = client.post(f"/api/v1/integrations/{made.id}/test", headers=tenant.headers())
    assert tested.status_code == 503
    assert "CRMSYNC_PREVIOUS_SECRET_KEYS" in tested.json()["error"]["message"]
