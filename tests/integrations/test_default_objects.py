"""An integration made without ``config.objects`` syncs the provider's core objects both
ways; an explicit ``{}`` syncs nothing, and the answer warns about it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.integrations.objects import NOTHING_SYNCS
from crmsync.store.models import SyncJob
from tests.conftest import Tenant

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
CORE = {"contacts": "both", "companies": "both", "deals": "both"}


def _create(client: TestClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    made = client.post(
        "/api/v1/integrations",
        json={"name": "CRM", **body},
        headers=tenant.headers(),
    )
    assert made.status_code == 201, made.text
    answer: dict[str, Any] = made.json()
    return answer


@pytest.mark.parametrize(
    ("provider", "credentials", "objects"),
    [
        ("hubspot", {"access_token": TOKEN}, CORE),
        ("pipedrive", {"api_token": "pd-token"}, CORE),
        ("salesforce", {"access_token": "00D!token"}, CORE),
        # Total Expert has no companies; its loans are deals
        ("totalexpert", {"access_token": "te-token"}, {"contacts": "both", "deals": "both"}),
    ],
)
def test_absent_objects_are_the_core_objects_both_ways(
    client: TestClient,
    tenant: Tenant,
    provider: str,
    credentials: dict[str, str],
    objects: dict[str, str],
) -> None:
    out = _create(client, tenant, provider=provider, credentials=credentials)
    assert out["config"]["objects"] == objects
    assert out["warnings"] == []
    # given a config without objects, the same
    out = _create(
        client, tenant, provider=provider, credentials=credentials, config={"frequency": "15m"}
    )
    assert out["config"]["objects"] == objects and out["config"]["frequency"] == "15m"


def test_a_default_integration_gets_the_changes_to_push(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    out = _create(client, tenant, provider="hubspot", credentials={"access_token": TOKEN})
    contact = client.post(
        "/api/v1/contacts", json={"email": "dana@example.com"}, headers=tenant.headers()
    )
    assert contact.status_code == 201, contact.text
    queued = db.scalar(
        select(func.count())
        .select_from(SyncJob)
        .where(SyncJob.integration_id == uuid.UUID(out["id"]))
    )
    assert queued == 1


@pytest.mark.parametrize("objects", [{}, {"contacts": "none", "deals": "none"}])
def test_explicitly_nothing_stays_nothing_with_a_warning(
    client: TestClient, tenant: Tenant, objects: dict[str, str]
) -> None:
    out = _create(
        client,
        tenant,
        provider="hubspot",
        credentials={"access_token": TOKEN},
        config={"objects": objects},
    )
    assert out["config"]["objects"] == objects
    assert out["warnings"] == [NOTHING_SYNCS]
    shown = client.get(f"/api/v1/integrations/{out['id']}", headers=tenant.headers()).json()
    assert shown["warnings"] == [NOTHING_SYNCS]


def test_a_patch_without_objects_keeps_them(client: TestClient, tenant: Tenant) -> None:
    out = _create(
        client,
        tenant,
        provider="hubspot",
        credentials={"access_token": TOKEN},
        config={"objects": {"contacts": "outbound"}},
    )
    url = f"/api/v1/integrations/{out['id']}"
    kept = client.patch(url, json={"config": {"frequency": "5m"}}, headers=tenant.headers())
    assert kept.json()["config"]["objects"] == {"contacts": "outbound"}
    emptied = client.patch(url, json={"config": {"objects": {}}}, headers=tenant.headers())
    assert emptied.json()["config"]["objects"] == {}
    assert emptied.json()["warnings"] == [NOTHING_SYNCS]
