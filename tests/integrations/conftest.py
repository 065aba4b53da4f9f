"""A HubSpot sandbox on loopback and an app in sandbox mode wired to its OAuth app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from tests.conftest import Tenant, create_test_app


@pytest.fixture(scope="module")
def hubspot() -> Iterator[SandboxServer]:
    """A HubSpot sandbox served over a real socket."""
    with SandboxServer([HubSpotSandbox(batch_delay=0.01)]) as server:
        yield server


@pytest.fixture
def sandbox(hubspot: SandboxServer) -> HubSpotSandbox:
    running = hubspot.get("hubspot").sandbox
    assert isinstance(running, HubSpotSandbox)
    running.reset()
    return running


@pytest.fixture(scope="module")
def sandbox_app(database_url: str, engine: Engine, hubspot: SandboxServer) -> FastAPI:
    tokens = hubspot.get("hubspot").sandbox.tokens  # type: ignore[attr-defined]
    return create_test_app(
        database_url,
        engine,
        sandbox_mode=True,
        hubspot_client_id=tokens.client_id,
        hubspot_client_secret=tokens.client_secret,
    )


@pytest.fixture(scope="module")
def api(sandbox_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(sandbox_app, raise_server_exceptions=False) as client:
        yield client


def create_hubspot(
    api: TestClient, tenant: Tenant, url: str, token: str, **extra: Any
) -> dict[str, Any]:
    """A HubSpot integration against the sandbox at ``url``."""
    body = {
        "provider": "hubspot",
        "name": "Sandbox portal",
        "credentials": {"access_token": token},
        "base_url": url,
        "config": {"objects": {"contacts": "both"}},
        **extra,
    }
    answer = api.post("/api/v1/integrations", json=body, headers=tenant.headers())
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made
