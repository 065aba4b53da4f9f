"""Connector settings in ``config``: checked when saved, and read by the connector."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from crmsync.connectors.http.ratelimit import MemoryWindows
from crmsync.connectors.registry import ConnectorContext, build
from crmsync.connectors.rest.definition import DEFINITIONS
from crmsync.sandbox.generic.sandbox import GenericSandbox
from crmsync.sandbox.server import SandboxServer
from tests.conftest import Tenant, create_test_app


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


def people_definition() -> dict[str, Any]:
    """The generic CRM's definition with its contacts called ``people``, as an
    integration of a CRM the built-ins do not describe would send it."""
    raw: dict[str, Any] = yaml.safe_load(Path(DEFINITIONS / "generic.yaml").read_text())
    raw["name"] = "people-crm"
    raw["objects"] = {"people": {"resource": "contacts", "event_name": "contact"}}
    return raw


def _create(api: TestClient, tenant: Tenant, body: dict[str, Any]) -> Any:
    return api.post("/api/v1/integrations", json=body, headers=tenant.headers())


def _generic(url: str, key: str, config: dict[str, Any], provider: str = "generic") -> dict:
    return {
        "provider": provider,
        "name": "Own CRM",
        "base_url": url,
        "credentials": {"api_key": key},
        "config": config,
    }


def test_an_inline_definition_drives_the_connector(
    api: TestClient, tenant: Tenant, served: tuple[GenericSandbox, str]
) -> None:
    sandbox, url = served
    config = {"objects": {"people": "both"}, "definition": people_definition()}
    made = _create(api, tenant, _generic(url, sandbox.api_key, config))
    assert made.status_code == 201, made.text
    assert made.json()["config"]["definition"]["name"] == "people-crm"
    iid = made.json()["id"]
    tested = api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()
    assert tested == {"ok": True, "message": tested["message"]}
    assert "fields on people" in tested["message"]
    listed = api.get(f"/api/v1/integrations/{iid}/fields?object=people", headers=tenant.headers())
    assert listed.status_code == 200, listed.text
    # the built-in definition has no "people": only the inline one can answer this
    assert "email" in {f["name"] for f in listed.json()["fields"]}


def test_an_inline_yaml_definition_is_taken_as_text(
    api: TestClient, tenant: Tenant, served: tuple[GenericSandbox, str]
) -> None:
    sandbox, url = served
    text = yaml.safe_dump(people_definition())
    config = {"objects": {"people": "both"}, "definition": text}
    made = _create(api, tenant, _generic(url, sandbox.api_key, config))
    assert made.status_code == 201, made.text
    iid = made.json()["id"]
    tested = api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()
    assert tested["ok"] is True and "fields on people" in tested["message"], tested
    broken = _generic(url, sandbox.api_key, {"definition": "name: [unclosed"})
    answer = _create(api, tenant, broken)
    assert answer.status_code == 422 and "config.definition: not valid YAML" in answer.text


def test_rest_is_an_alias_of_generic(
    api: TestClient, tenant: Tenant, served: tuple[GenericSandbox, str]
) -> None:
    sandbox, url = served
    made = _create(api, tenant, _generic(url, sandbox.api_key, {}, provider="rest"))
    assert made.status_code == 201, made.text
    assert made.json()["provider"] == "generic"
    iid = made.json()["id"]
    tested = api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()
    assert tested["ok"] is True, tested


BAD = [
    (
        "generic",
        {"definition": {"name": "x"}},
        "config.definition: ",
    ),
    (
        "generic",
        {"definition": {**people_definition(), "objects": {"p": {"endpoints": {"list": "X"}}}}},
        "config.definition: objects.p.endpoints.list",
    ),
    ("generic", {"definition_name": "nope"}, "config.definition_name: no built-in REST definition"),
    (
        "generic",
        {"definition_name": "generic", "definition": people_definition()},
        "not both",
    ),
    ("generic", {"external_ids": {"contacts": "Ext__c"}}, "config.external_ids: applies to"),
    ("hubspot", {"definition_name": "generic"}, "config.definition_name: applies to generic"),
    ("salesforce", {"external_ids": {"tickets": "Ext__c"}}, "config.external_ids.tickets"),
    ("salesforce", {"external_ids": {"contacts": "Ext Id"}}, "config.external_ids.contacts"),
    ("salesforce", {"definitions": {}}, "definitions"),
    ("salesforce", {"custom_objects": {"properties": "2-1"}}, "config.custom_objects: applies"),
    (
        "hubspot",
        {"objects": {"contacts": "both", "properties": "outbound"}},
        "config.custom_objects.properties: HubSpot keeps properties in a custom object",
    ),
    ("hubspot", {"custom_objects": {"deals": "2-1"}}, "config.custom_objects.deals: not a"),
    ("hubspot", {"custom_objects": {"properties": "0-1"}}, "config.custom_objects.properties"),
    ("hubspot", {"custom_objects": {"properties": "2-1 OR 1"}}, "objectTypeId (2-"),
]


@pytest.mark.parametrize(("provider", "config", "expected"), BAD)
def test_bad_settings_are_422_naming_the_key(
    api: TestClient,
    tenant: Tenant,
    served: tuple[GenericSandbox, str],
    provider: str,
    config: dict[str, Any],
    expected: str,
) -> None:
    credentials = {
        "generic": {"api_key": "k"},
        "hubspot": {"access_token": "t"},
        "salesforce": {"access_token": "t"},
    }[provider]
    body = {
        "provider": provider,
        "name": "x",
        "base_url": served[1],
        "credentials": credentials,
        "config": config,
    }
    answer = _create(api, tenant, body)
    assert answer.status_code == 422, answer.text
    assert expected in answer.text, answer.text


def test_a_patch_is_checked_too(
    api: TestClient, tenant: Tenant, served: tuple[GenericSandbox, str]
) -> None:
    sandbox, url = served
    made = _create(api, tenant, _generic(url, sandbox.api_key, {}))
    iid = made.json()["id"]
    answer = api.patch(
        f"/api/v1/integrations/{iid}",
        json={"config": {"definition_name": "missing"}},
        headers=tenant.headers(),
    )
    assert answer.status_code == 422 and "config.definition_name" in answer.text, answer.text
    shown = api.get(f"/api/v1/integrations/{iid}", headers=tenant.headers()).json()
    assert "definition_name" not in shown["config"]
    fine = api.patch(
        f"/api/v1/integrations/{iid}",
        json={"config": {"objects": {"people": "both"}, "definition": people_definition()}},
        headers=tenant.headers(),
    )
    assert fine.status_code == 200, fine.text


def test_salesforce_takes_its_external_ids_from_config() -> None:
    context = ConnectorContext(
        integration_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        base_url="https://acme.my.salesforce.com",
        credentials={"access_token": "00D!x"},
        config={"external_ids": {"contacts": "Ext_Id__c"}},
        rate_profile="unlimited",
        windows=MemoryWindows(),
    )
    connector = build("salesforce", context)
    try:
        assert connector.capabilities.of("contacts").upsert_keys == ("Ext_Id__c", "Email")
        assert connector.capabilities.of("leads").upsert_keys[0] == "crmsync_id__c"
    finally:
        connector.close()
