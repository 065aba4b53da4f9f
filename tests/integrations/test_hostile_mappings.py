"""``PUT /integrations/{id}/mappings`` refuses hostile documents with a 422 (issue 17)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crmsync.mapping.defaults import default_mapping
from crmsync.mapping.errors import MappingFileError
from crmsync.mapping.yaml_io import MAX_NODES, mapping_from_yaml, mapping_to_yaml
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from tests.conftest import Tenant
from tests.integrations.conftest import create_hubspot

BOMB = "provider: hubspot\n" + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['x'] * 9)}]\n"
    for i in range(9)
)
SELF = "provider: hubspot\nobjects: &a\n  contacts: *a\n"
DEEP = "provider: hubspot\nx: " + "[" * 2000 + "]" * 2000 + "\n"
NUL = 'provider: hubspot\nstatus_maps: {"a\\0": {}}\n'


@pytest.mark.parametrize("text", [BOMB, SELF, DEEP, NUL])
def test_yaml_bombs_are_refused_before_they_expand(text: str) -> None:
    with pytest.raises(MappingFileError):
        mapping_from_yaml(text)


@pytest.mark.parametrize("provider", ["hubspot", "salesforce", "pipedrive", "totalexpert"])
def test_real_documents_are_within_the_limits(provider: str) -> None:
    # the limits leave room for every real document: each default mapping round-trips
    mapping = default_mapping(provider)
    text = mapping_to_yaml(mapping)
    assert mapping_from_yaml(text) == mapping
    assert len(text.splitlines()) < MAX_NODES


@pytest.fixture
def integration(api: TestClient, tenant: Tenant, hubspot: SandboxServer) -> str:
    sandbox = hubspot.get("hubspot").sandbox
    assert isinstance(sandbox, HubSpotSandbox)
    made = create_hubspot(api, tenant, hubspot.url("hubspot"), sandbox.tokens.private_token)
    return str(made["id"])


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/yaml", BOMB.encode()),
        ("application/yaml", SELF.encode()),
        ("application/yaml", DEEP.encode()),
        ("application/yaml", b"provider: hubspot\nobjects: !!binary aGVsbG8=\n"),
        ("application/yaml", b"\xff\xfe\x00"),
        ("application/json", b'{"provider": "hubspot", "objects": NaN}'),
        ("application/json", b'{"provider": "hubspot", "objects": {"contacts": 1e999}}'),
        ("application/json", b'{"provider": "hubspot", "objects": {"contacts": "\\ud800"}}'),
        ("application/json", b'{"provider": "hubspot", "status_maps": {"a": [1, 2]}}'),
        ("application/json", b'{"provider": 18446744073709551616}'),
        ("application/json", b"\xff\xfe"),
        ("application/json", b"[" * 3000),
        ("text/plain", b"provider: hubspot"),
    ],
)
def test_malformed_mapping_bodies_are_422(
    api: TestClient, tenant: Tenant, integration: str, content_type: str, body: bytes
) -> None:
    answer = api.put(
        f"/api/v1/integrations/{integration}/mappings",
        content=body,
        headers={**tenant.headers(), "content-type": content_type},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "validation_error"
    # and the stored mapping is the default still
    read = api.get(f"/api/v1/integrations/{integration}/mappings", headers=tenant.headers())
    assert read.status_code == 200
