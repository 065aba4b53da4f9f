"""A ``generic`` integration made through the API reaches the generic sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from crmsync.sandbox.generic.sandbox import GenericSandbox
from crmsync.sandbox.server import SandboxServer
from tests.conftest import Tenant, create_test_app
from tests.integrations.conftest import create_hubspot


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GenericSandbox, str]]:
    sandbox = GenericSandbox()
    with SandboxServer([sandbox]) as server:
        yield sandbox, server.url("generic")


@pytest.fixture(scope="module")
def api(database_url: str, engine: Engine) -> Iterator[TestClient]:
    app = create_test_app(database_url, engine, sandbox_mode=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def create(api: TestClient, tenant: Tenant, url: str, key: str) -> str:
    # the HubSpot helper with the generic provider's fields in place of HubSpot's
    made = create_hubspot(
        api,
        tenant,
        url,
        key,
        provider="generic",
        credentials={"api_key": key},
        config={"objects": {"leads": "both"}},
    )
    return str(made["id"])


def test_test_and_fields_go_through_the_definition(
    api: TestClient, tenant: Tenant, served: tuple[GenericSandbox, str]
) -> None:
    sandbox, url = served
    custom = {"lastName": "Lovelace", "customFields": {"tier": "gold"}}
    httpx.post(
        f"{url}/api/v1/leads", json=custom, headers={"X-API-Key": sandbox.api_key}
    ).raise_for_status()
    iid = create(api, tenant, url, sandbox.api_key)
    tested = api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()
    assert tested["ok"] is True and "fields on leads" in tested["message"], tested
    listed = api.get(f"/api/v1/integrations/{iid}/fields?object=leads", headers=tenant.headers())
    assert listed.status_code == 200, listed.text
    by_name = {f["name"]: f for f in listed.json()["fields"]}
    assert by_name["lastname"]["label"] == "Last name"
    assert by_name["status"]["options"][:2] == ["new", "contacted"]
    assert by_name["customFields"]["custom"] is True


def test_a_wrong_api_key_fails_the_test_with_the_crms_message(
    api: TestClient, tenant: Tenant, served: tuple[GenericSandbox, str]
) -> None:
    iid = create(api, tenant, served[1], "gk_wrong")
    tested = api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()
    assert tested["ok"] is False
    assert "missing or invalid API key" in tested["message"]
