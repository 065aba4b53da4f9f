"""An org that moves: a refresh names a new instance URL, which is followed and kept.

Two servers serve one sandbox org, as two Salesforce instances would serve one org
before and after a migration. The token endpoint stays on the integration's base URL
(the login host or My Domain); the refresh answer names the second server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from crmsync.connectors.http import HttpSettings, TokenSet
from crmsync.connectors.http.ratelimit import MemoryWindows
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.registry import ConnectorContext
from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.connectors.salesforce.instance import acceptable, host_acceptable
from crmsync.sandbox.salesforce import Sandbox
from crmsync.sandbox.server import SandboxServer
from tests.conftest import Tenant, create_test_app
from tests.connectors.contract import targets  # noqa: F401  (loads before its salesforce part)
from tests.connectors.contract.salesforce import oauth_grant


@dataclass
class Recorder(httpx.BaseTransport):
    """Notes the origin of every request it passes on."""

    inner: httpx.BaseTransport = field(default_factory=httpx.HTTPTransport)
    origins: list[str] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.origins.append(f"{request.url.scheme}://{request.url.netloc.decode()}")
        return self.inner.handle_request(request)


@dataclass
class Moved:
    sandbox: Sandbox
    old: SandboxServer
    new: SandboxServer

    @property
    def old_url(self) -> str:
        return self.old.url("salesforce")

    @property
    def new_url(self) -> str:
        return self.new.url("salesforce")


@pytest.fixture
def moved() -> Iterator[Moved]:
    sandbox = Sandbox()
    old = SandboxServer([sandbox]).start()
    new = SandboxServer([sandbox]).start()
    try:
        yield Moved(sandbox, old, new)
    finally:
        sandbox.org.instance_url = None
        new.stop()
        old.stop()


def _grant(moved: Moved) -> dict[str, Any]:
    with httpx.Client(base_url=moved.old_url) as client:
        return oauth_grant(client, moved.sandbox)


def _connector(moved: Moved, credentials: dict[str, Any], **extra: Any) -> SalesforceConnector:
    app = moved.sandbox.org.tokens.default_app
    context = ConnectorContext(
        integration_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        base_url=moved.old_url,
        credentials=credentials,
        client_id=app.client_id,
        client_secret=Secret(app.client_secret),
        rate_profile="unlimited",
        http=HttpSettings(),
        windows=MemoryWindows(),
        **extra,
    )
    return SalesforceConnector.from_context(context)


def test_a_refresh_naming_a_new_instance_moves_every_later_call(moved: Moved) -> None:
    credentials = _grant(moved)
    assert credentials["instance_url"] == moved.old_url
    moved.sandbox.org.instance_url = moved.new_url
    moved.sandbox.org.tokens.expire_sessions()
    saved: list[TokenSet] = []
    recorder = Recorder()
    connector = _connector(moved, credentials, on_refresh=saved.append, transport=recorder)
    assert connector.describe("contacts")
    assert [t.extras["instance_url"] for t in saved] == [moved.new_url]
    # refused on the old instance, refreshed at the base URL, retried on the new one
    assert recorder.origins == [moved.old_url, moved.old_url, moved.new_url]
    moved.old.stop()  # the old instance is gone: nothing may still go there
    made = connector.upsert("contacts", [{"LastName": "Moved", "Email": "m@example.com"}], None)
    assert made[0].ok, made
    assert recorder.origins[3:] == [moved.new_url] * (len(recorder.origins) - 3)
    connector.close()


def test_the_persisted_instance_url_is_where_a_new_connector_starts(moved: Moved) -> None:
    credentials = {**_grant(moved), "instance_url": moved.new_url}
    recorder = Recorder()
    connector = _connector(moved, credentials, transport=recorder)
    assert connector.describe("leads")
    assert set(recorder.origins) == {moved.new_url}
    connector.close()


@pytest.mark.parametrize(
    ("url", "base", "ok"),
    [
        ("https://eu12.salesforce.com", "https://login.salesforce.com", True),
        ("https://acme.my.salesforce.com/", "https://acme.my.salesforce.com", True),
        ("https://acme.lightning.force.com", "https://login.salesforce.com", True),
        ("http://eu12.salesforce.com", "https://login.salesforce.com", False),
        ("https://eu12.salesforce.com.evil.net", "https://login.salesforce.com", False),
        ("https://user:pw@eu12.salesforce.com", "https://login.salesforce.com", False),
        ("http://127.0.0.1:9", "https://login.salesforce.com", False),
        ("http://localhost:9", "http://127.0.0.1:8", True),
        ("not a url", "https://login.salesforce.com", False),
    ],
)
def test_only_salesforce_hosts_are_followed(url: str, base: str, ok: bool) -> None:
    assert acceptable(url, base) is ok


def test_the_host_guard_admits_salesforce_instances_only() -> None:
    assert host_acceptable("eu12.salesforce.com", "https://login.salesforce.com")
    assert not host_acceptable("10.0.0.5", "https://login.salesforce.com")
    assert not host_acceptable("localhost", "https://acme.my.salesforce.com")


@pytest.fixture
def api(database_url: str, engine: Engine, moved: Moved) -> Iterator[TestClient]:
    app = moved.sandbox.org.tokens.default_app
    test_app = create_test_app(
        database_url,
        engine,
        sandbox_mode=True,
        salesforce_client_id=app.client_id,
        salesforce_client_secret=app.client_secret,
    )
    with TestClient(test_app, raise_server_exceptions=False) as client:
        yield client


def test_the_integration_keeps_the_new_instance_after_a_refresh(
    api: TestClient, tenant: Tenant, moved: Moved
) -> None:
    body = {
        "provider": "salesforce",
        "name": "Moving org",
        "base_url": moved.old_url,
        "credentials": _grant(moved),
        "config": {"objects": {"contacts": "both"}},
    }
    made = api.post("/api/v1/integrations", json=body, headers=tenant.headers())
    assert made.status_code == 201, made.text
    iid = made.json()["id"]
    moved.sandbox.org.instance_url = moved.new_url
    moved.sandbox.org.tokens.expire_sessions()
    tested = api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()
    assert tested["ok"] is True, tested
    shown = api.get(f"/api/v1/integrations/{iid}", headers=tenant.headers()).json()
    assert shown["credentials"]["instance_url"] == moved.new_url
    # with the old instance gone, the integration still works from the stored URL
    moved.old.stop()
    moved.sandbox.org.instance_url = None
    listed = api.get(f"/api/v1/integrations/{iid}/fields?object=contacts", headers=tenant.headers())
    assert listed.status_code == 200, listed.text
