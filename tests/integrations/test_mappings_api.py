"""An integration's own mappings: read, export and import as YAML, replace, suggest."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from tests.conftest import Tenant, create_test_app


@pytest.fixture(scope="module")
def hubspot() -> Iterator[tuple[HubSpotSandbox, str]]:
    sandbox = HubSpotSandbox()
    server = SandboxServer([sandbox]).start()
    yield sandbox, server.url("hubspot")
    server.stop()


@pytest.fixture
def api(database_url: str, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_test_app(database_url, engine, sandbox_mode=True)) as client:
        yield client


@pytest.fixture
def integration(api: TestClient, tenant: Tenant, hubspot: tuple[HubSpotSandbox, str]) -> str:
    sandbox, url = hubspot
    made = api.post(
        "/api/v1/integrations",
        headers=tenant.headers(),
        json={
            "provider": "hubspot",
            "name": "hs",
            "base_url": url,
            "credentials": {"access_token": sandbox.tokens.private_token},
        },
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_default_then_replaced_through_yaml(
    api: TestClient, tenant: Tenant, integration: str
) -> None:
    h = tenant.headers()
    base = f"/api/v1/integrations/{integration}/mappings"
    default = api.get(base, headers=h).json()
    assert default["provider"] == "hubspot"
    assert {"source": "first_name", "target": "firstname"}.items() <= next(
        f for f in default["objects"]["contacts"]["fields"] if f["source"] == "first_name"
    ).items()
    exported = api.get(base, params={"format": "yaml"}, headers=h)
    assert exported.headers["content-type"].startswith("application/yaml")
    edited = exported.text.replace("target: jobtitle", "target: job_title_custom")
    stored = api.put(base, content=edited, headers={**h, "Content-Type": "application/yaml"})
    assert stored.status_code == 200, stored.text
    now = api.get(base, headers=h).json()
    job = next(f for f in now["objects"]["contacts"]["fields"] if f["source"] == "job_title")
    assert job["target"] == "job_title_custom"


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        ("provider: hubspot\nobjects: [1, 2", "application/yaml", "line"),
        (
            "provider: hubspot\nobjects:\n  contacts:\n    remote_object: contacts\n    fields:\n"
            "      - {source: shoe_size, target: x}\n",
            "application/yaml",
            "shoe_size",
        ),
        ('{"provider": "salesforce", "objects": {}}', "application/json", "salesforce"),
        ('{"provider": 1}', "application/json", "provider"),
    ],
)
def test_bad_mappings_are_422_saying_where(
    api: TestClient, tenant: Tenant, integration: str, body: str, content_type: str, says: str
) -> None:
    answer = api.put(
        f"/api/v1/integrations/{integration}/mappings",
        content=body,
        headers={**tenant.headers(), "Content-Type": content_type},
    )
    assert answer.status_code == 422, answer.text
    assert says in answer.json()["error"]["message"]


def test_suggestions_target_the_crms_own_fields(
    api: TestClient, tenant: Tenant, integration: str
) -> None:
    answer = api.post(
        f"/api/v1/integrations/{integration}/suggest-mappings",
        headers=tenant.headers(),
        json={
            "object_type": "contacts",
            "fields": ["E-mail", "Given name", "Mobile"],
            "samples": {"Mobile": ["+1 206 555 0101"]},
        },
    )
    assert answer.status_code == 200, answer.text
    targets = {s["source"]: s["target"] for s in answer.json()["suggestions"]}
    assert targets["E-mail"] == "email" and targets["Given name"] == "firstname"
    assert targets["Mobile"] in {"mobilephone", "phone"}
    same = api.post(
        "/api/v1/mappings/suggest",
        headers=tenant.headers(),
        json={"object_type": "contacts", "fields": ["Given name"], "target": integration},
    )
    assert same.json()["suggestions"][0]["target"] == "firstname"  # not crmsync's first_name


def test_other_workspaces_see_nothing(
    api: TestClient, make_tenant: Callable[[], Tenant], integration: str
) -> None:
    other = make_tenant()
    assert (
        api.get(f"/api/v1/integrations/{integration}/mappings", headers=other.headers()).status_code
        == 404
    )
