"""``config.objects``: only object types the connector declares, and per-type settings."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crmsync.integrations.config import ObjectSync, SyncConfig
from crmsync.integrations.objects import check_supported
from crmsync.mapping.direction import SyncDirection
from crmsync.records.errors import RecordInvalid
from crmsync.sandbox.server import SandboxServer
from tests.conftest import Tenant
from tests.integrations.conftest import create_hubspot

# every canonical type an app may name, and one no CRM has
CANDIDATES = (
    "contacts",
    "companies",
    "leads",
    "deals",
    "activities",
    "notes",
    "tickets",
    "properties",
    "loans",
    "lead-opportunities",
    "spaceships",
)


def _body(hubspot: SandboxServer, config: dict[str, Any]) -> dict[str, Any]:
    """A HubSpot integration to create against the sandbox, with ``config``."""
    return {
        "provider": "hubspot",
        "name": "x",
        "credentials": {"access_token": "t"},
        "base_url": hubspot.url("hubspot"),
        "config": config,
    }


def _declared(provider: str) -> set[str]:
    module = importlib.import_module(f"crmsync.connectors.{provider}.connector")
    return set(module.CAPABILITIES.objects)


@pytest.mark.parametrize("provider", ["hubspot", "pipedrive", "totalexpert"])
def test_supported_means_declared_by_the_connector(provider: str) -> None:
    declared = _declared(provider)
    for object_type in CANDIDATES:
        config = SyncConfig.model_validate({"objects": {object_type: "both"}})
        if object_type in declared:
            check_supported(provider, config)
            continue
        with pytest.raises(RecordInvalid) as refused:
            check_supported(provider, config)
        assert refused.value.args[0].startswith(f"config.objects.{object_type}:")
        # 'none' is not a sync: it is never refused
        check_supported(provider, SyncConfig.model_validate({"objects": {object_type: "none"}}))


def test_an_unsupported_type_is_refused_with_422_naming_it(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer
) -> None:
    body = _body(hubspot, {"objects": {"contacts": "both", "spaceships": "outbound"}})
    answer = api.post("/api/v1/integrations", json=body, headers=tenant.headers())
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert "config.objects.spaceships" in error["message"]
    assert error["details"]["field"] == "config.objects.spaceships"
    assert "contacts" in error["details"]["supported"]

    made = create_hubspot(api, tenant, hubspot.url("hubspot"), "t")
    patch = {"config": {"objects": {"contacts": {"direction": "both"}, "spaceships": "both"}}}
    answer = api.patch(f"/api/v1/integrations/{made['id']}", json=patch, headers=tenant.headers())
    assert answer.status_code == 422 and "spaceships" in answer.json()["error"]["message"]
    kept = api.get(f"/api/v1/integrations/{made['id']}", headers=tenant.headers()).json()
    assert kept["config"]["objects"] == {"contacts": "both"}


def test_per_object_settings_round_trip_and_old_shape_still_works(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer
) -> None:
    objects = {
        "contacts": "both",  # the old shape: a direction
        "companies": {"direction": "both", "frequency": "hourly"},
        "notes": {"direction": "outbound", "frequency": "15m", "batch_size": 50, "attempts": 3},
    }
    made = create_hubspot(api, tenant, hubspot.url("hubspot"), "t", config={"objects": objects})
    assert made["config"]["objects"] == objects
    config = SyncConfig.model_validate(made["config"])
    assert config.pushes("contacts") and config.pulls("contacts")
    assert config.pushes("notes") and not config.pulls("notes")
    assert config.sync_of("notes") == ObjectSync(
        direction=SyncDirection.OUTBOUND, frequency="15m", batch_size=50, attempts=3
    )
    assert config.attempts("notes") == 3 and config.attempts("contacts") == 5
    assert config.sync_of("deals").direction is SyncDirection.NONE


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"frequency": "every now and then"}, "frequency"),
        ({"batch_size": 0}, "batch_size"),
        ({"attempts": 0}, "attempts"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_per_object_settings_are_422_naming_the_field(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, settings: dict[str, object], field: str
) -> None:
    body = _body(hubspot, {"objects": {"contacts": settings}})
    answer = api.post("/api/v1/integrations", json=body, headers=tenant.headers())
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"rate_budgets": [{"limit": 10, "per": "fortnightly"}]}, "per"),
        ({"rate_budgets": [{"limit": 0, "per": "1h"}]}, "limit"),
        ({"webhook_rate_limit": {"limit": 50}}, "per"),
    ],
)
def test_bad_rate_budgets_are_422(
    api: TestClient,
    tenant: Tenant,
    hubspot: SandboxServer,
    config: dict[str, object],
    field: str,
) -> None:
    body = _body(hubspot, config)
    answer = api.post("/api/v1/integrations", json=body, headers=tenant.headers())
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["error"]["message"]


def test_webhook_deliveries_over_the_limit_are_429_with_retry_after(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer
) -> None:
    limited = create_hubspot(
        api,
        tenant,
        hubspot.url("hubspot"),
        "t",
        config={"objects": {"contacts": "both"}, "webhook_rate_limit": {"limit": 2, "per": "10s"}},
    )
    other = create_hubspot(api, tenant, hubspot.url("hubspot"), "t")

    def deliver(integration_id: str) -> Any:
        return api.post(f"/api/v1/webhooks/hubspot/{integration_id}", content=b"[]")

    # within the limit, deliveries reach verification (unsigned: refused)
    assert [deliver(limited["id"]).status_code for _ in range(2)] == [401, 401]
    over = deliver(limited["id"])
    assert over.status_code == 429, over.text
    assert 1 <= int(over.headers["Retry-After"]) <= 10
    assert over.json()["error"]["code"] == "rate_limited"
    # the limit is the integration's own: another one is not held
    assert deliver(other["id"]).status_code == 401


def test_refused_credentials_make_reauthorize_the_next_step(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer
) -> None:
    made = create_hubspot(api, tenant, hubspot.url("hubspot"), "not-a-token")
    tested = api.post(f"/api/v1/integrations/{made['id']}/test", headers=tenant.headers())
    assert tested.json()["ok"] is False
    health = api.get(f"/api/v1/integrations/{made['id']}/health", headers=tenant.headers()).json()
    assert health["status"] == "needs_auth"
    assert health["next_steps"][0]["action"] == "reauthorize"
    assert f"integration_id={made['id']}" in health["next_steps"][0]["how"]


def test_oauth_authorize_refuses_an_unsupported_type_before_consent(
    api: TestClient, tenant: Tenant
) -> None:
    answer = api.post(
        "/api/v1/oauth/hubspot/authorize",
        json={"config": {"objects": {"contacts": "both", "spaceships": "both"}}},
        headers=tenant.headers(),
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"]["field"] == "config.objects.spaceships"
    fine = api.post(
        "/api/v1/oauth/hubspot/authorize",
        json={"config": {"objects": {"contacts": {"direction": "both", "frequency": "15m"}}}},
        headers=tenant.headers(),
    )
    assert fine.status_code == 200, fine.text
    assert "authorize_url" in fine.json()
