"""The four CRM sandboxes on one server, and an app allowed to call them (sandbox mode)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from crmsync.sandbox import create
from crmsync.sandbox.base import ProviderSandbox, SandboxOptions
from crmsync.sandbox.server import SandboxServer
from tests.conftest import Tenant, create_test_app

PROVIDERS = ("hubspot", "salesforce", "pipedrive", "totalexpert")


@dataclass
class Crms:
    sandboxes: dict[str, ProviderSandbox]
    server: SandboxServer

    def url(self, provider: str) -> str:
        return self.server.url(provider)

    def credentials(self, provider: str) -> dict[str, Any]:
        sandbox: Any = self.sandboxes[provider]
        if provider == "hubspot":
            return {"access_token": sandbox.tokens.private_token}
        if provider == "salesforce":
            return {
                "access_token": sandbox.org.tokens.default_token,
                "instance_url": self.url(provider),
            }
        if provider == "pipedrive":
            return {"api_token": sandbox.oauth.api_token}
        return {
            "client_id": sandbox.tokens.client_id,
            "client_secret": sandbox.tokens.client_secret,
        }


@pytest.fixture(scope="session")
def crms() -> Iterator[Crms]:
    sandboxes = {p: create(p, SandboxOptions(rate_profile="off")) for p in PROVIDERS}
    server = SandboxServer(list(sandboxes.values())).start()
    yield Crms(sandboxes, server)
    server.stop()


@pytest.fixture(scope="session")
def crm_app(database_url: str, engine: Engine) -> FastAPI:
    return create_test_app(database_url, engine, sandbox_mode=True)


@pytest.fixture(scope="session")
def crm_client(crm_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(crm_app, raise_server_exceptions=False) as client:
        yield client


def connect(
    client: TestClient,
    tenant: Tenant,
    crms: Crms,
    provider: str,
    objects: dict[str, str] | None = None,
    base_url: str | None = None,
) -> str:
    """A new integration of ``tenant`` with the provider's sandbox; its id."""
    made = client.post(
        "/api/v1/integrations",
        json={
            "provider": provider,
            "name": f"{provider}-{uuid.uuid4().hex[:6]}",
            "credentials": crms.credentials(provider),
            "base_url": base_url or crms.url(provider),
            "config": {"objects": objects or {"contacts": "outbound"}},
        },
        headers=tenant.headers(),
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])
