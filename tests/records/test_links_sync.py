"""A record's links (``?include=links``) and pushing one record now
(``POST /{type}/{id}/sync``), against the HubSpot and Pipedrive sandboxes over sockets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from crmsync.demo_crms import standard_fields
from crmsync.store.models import Integration, SyncJob
from crmsync.sync.targets import set_object_mapping
from tests.conftest import Tenant
from tests.owners.conftest import Crms, connect


def _connect(
    client: TestClient,
    tenant: Tenant,
    crms: Crms,
    sessions: sessionmaker[Session],
    provider: str,
) -> str:
    integration_id = connect(client, tenant, crms, provider)
    with sessions() as session:
        integration = session.get(Integration, uuid.UUID(integration_id))
        assert integration is not None
        set_object_mapping(session, integration, "contacts", standard_fields(provider, "contacts"))
        session.commit()
    return integration_id


def _contact(client: TestClient, tenant: Tenant, **fields: Any) -> str:
    body = {"email": f"p-{uuid.uuid4().hex[:8]}@example.com", "first_name": "P", **fields}
    made = client.post("/api/v1/contacts", json=body, headers=tenant.headers())
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _links(client: TestClient, tenant: Tenant, record_id: str) -> list[dict[str, Any]]:
    answer = client.get(
        f"/api/v1/contacts/{record_id}", params={"include": "links"}, headers=tenant.headers()
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["links"])


def test_push_now_answers_remote_ids_and_links_show_them(
    crm_client: TestClient,
    tenant: Tenant,
    crms: Crms,
    sessions: sessionmaker[Session],
) -> None:
    hubspot = _connect(crm_client, tenant, crms, sessions, "hubspot")
    pipedrive = _connect(crm_client, tenant, crms, sessions, "pipedrive")
    rid = _contact(crm_client, tenant, last_name="Now")
    assert _links(crm_client, tenant, rid) == []
    plain = crm_client.get(f"/api/v1/contacts/{rid}", headers=tenant.headers()).json()
    assert "links" not in plain  # only when asked for

    before = datetime.now(UTC)
    answer = crm_client.post(f"/api/v1/contacts/{rid}/sync", headers=tenant.headers())
    assert answer.status_code == 200, answer.text
    results = {r["integration_id"]: r for r in answer.json()["results"]}
    assert set(results) == {hubspot, pipedrive}
    assert all(r["status"] == "synced" and r["remote_id"] for r in results.values()), results

    # the CRM holds it, read through its own API
    sandbox: Any = crms.sandboxes["hubspot"]
    remote = httpx.get(
        f"{crms.url('hubspot')}/crm/v3/objects/contacts/{results[hubspot]['remote_id']}",
        params={"properties": "lastname"},
        headers={"Authorization": f"Bearer {sandbox.tokens.private_token}"},
    ).json()
    assert remote["properties"]["lastname"] == "Now"

    links = {link["integration_id"]: link for link in _links(crm_client, tenant, rid)}
    assert set(links) == {hubspot, pipedrive}
    for integration_id, link in links.items():
        assert link["remote_id"] == results[integration_id]["remote_id"]
        assert datetime.fromisoformat(link["last_synced_at"]) >= before
        assert link["last_error"] is None and link["provider"] in ("hubspot", "pipedrive")
    listed = crm_client.get(
        "/api/v1/contacts", params={"include": "links", "limit": 500}, headers=tenant.headers()
    ).json()
    mine = next(item for item in listed["items"] if item["id"] == rid)
    assert {link["remote_id"] for link in mine["links"]} == {
        r["remote_id"] for r in results.values()
    }

    # again, to one integration: unchanged, the same remote id
    again = crm_client.post(
        f"/api/v1/contacts/{rid}/sync",
        params={"integration_id": hubspot},
        headers=tenant.headers(),
    ).json()["results"]
    assert [(r["integration_id"], r["status"], r["remote_id"]) for r in again] == [
        (hubspot, "synced", results[hubspot]["remote_id"])
    ]


def test_a_failed_push_shows_its_error_in_the_answer_and_the_links(
    crm_client: TestClient,
    tenant: Tenant,
    crms: Crms,
    sessions: sessionmaker[Session],
) -> None:
    pipedrive = _connect(crm_client, tenant, crms, sessions, "pipedrive")
    rid = _contact(crm_client, tenant)  # no last name: Pipedrive's mapping requires one
    (result,) = crm_client.post(f"/api/v1/contacts/{rid}/sync", headers=tenant.headers()).json()[
        "results"
    ]
    assert result["status"] == "failed" and result["remote_id"] is None
    assert "last_name" in result["error"]
    (link,) = _links(crm_client, tenant, rid)
    assert link["integration_id"] == pipedrive and link["remote_id"] is None
    assert "last_name" in link["last_error"]

    # fixed and pushed again: linked, and the old error is gone
    crm_client.patch(
        f"/api/v1/contacts/{rid}", json={"last_name": "Fixed"}, headers=tenant.headers()
    )
    (fixed,) = crm_client.post(f"/api/v1/contacts/{rid}/sync", headers=tenant.headers()).json()[
        "results"
    ]
    assert fixed["status"] == "synced" and fixed["remote_id"]
    (link,) = _links(crm_client, tenant, rid)
    assert link["remote_id"] == fixed["remote_id"] and link["last_error"] is None


def test_push_now_refusals(
    crm_client: TestClient,
    tenant: Tenant,
    make_tenant: Any,
    crms: Crms,
    sessions: sessionmaker[Session],
) -> None:
    hubspot = _connect(crm_client, tenant, crms, sessions, "hubspot")
    rid = _contact(crm_client, tenant)
    h = tenant.headers()
    other = make_tenant()
    theirs = _connect(crm_client, other, crms, sessions, "hubspot")
    # another workspace's integration, or record: 404
    answer = crm_client.post(
        f"/api/v1/contacts/{rid}/sync", params={"integration_id": theirs}, headers=h
    )
    assert answer.status_code == 404, answer.text
    assert (
        crm_client.post(f"/api/v1/contacts/{rid}/sync", headers=other.headers()).status_code == 404
    )
    # an integration that does not push the type: 422 naming integration_id
    deal = crm_client.post("/api/v1/deals", json={"name": "D"}, headers=h).json()["id"]
    refused = crm_client.post(
        f"/api/v1/deals/{deal}/sync", params={"integration_id": hubspot}, headers=h
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["field"] == "integration_id"
    # no integration pushes deals: nothing to do
    assert crm_client.post(f"/api/v1/deals/{deal}/sync", headers=h).json() == {"results": []}


def test_push_now_never_races_a_worker_and_waits_for_a_connection(
    crm_client: TestClient,
    tenant: Tenant,
    crms: Crms,
    sessions: sessionmaker[Session],
) -> None:
    hubspot = _connect(crm_client, tenant, crms, sessions, "hubspot")
    rid = _contact(crm_client, tenant)
    now = datetime.now(UTC)
    with sessions() as session:  # a worker holds this record's job right now
        session.add(
            SyncJob(
                workspace_id=tenant.id,
                integration_id=uuid.UUID(hubspot),
                object_type="contacts",
                record_id=uuid.UUID(rid),
                operation="upsert",
                status="running",
                lease_owner="someone",
                lease_expires_at=now,
                next_attempt_at=now,
            )
        )
        session.commit()
    (busy,) = crm_client.post(f"/api/v1/contacts/{rid}/sync", headers=tenant.headers()).json()[
        "results"
    ]
    assert busy["status"] == "in_progress" and busy["remote_id"] is None

    with sessions() as session:
        integration = session.get(Integration, uuid.UUID(hubspot))
        assert integration is not None
        integration.status = "needs_auth"
        integration.last_error = "token revoked"
        session.commit()
    other = _contact(crm_client, tenant)
    (waiting,) = crm_client.post(f"/api/v1/contacts/{other}/sync", headers=tenant.headers()).json()[
        "results"
    ]
    assert waiting["status"] == "queued" and "needs_auth" in waiting["error"]
    assert "token revoked" in waiting["error"]
