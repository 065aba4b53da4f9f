"""Record changes enqueue sync jobs in the same transaction, coalesced per record."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.records import service
from crmsync.store.models import Integration, SyncJob
from crmsync.sync import outbox
from tests.conftest import Tenant


def _integration(db: Session, tenant: Tenant, **config: Any) -> uuid.UUID:
    integration = Integration(
        workspace_id=tenant.id, provider="hubspot", name="hs", config=config, status="connected"
    )
    db.add(integration)
    db.commit()
    return integration.id


def _jobs(db: Session, integration_id: uuid.UUID) -> list[tuple[str, str, int]]:
    db.expire_all()
    rows = db.scalars(select(SyncJob).where(SyncJob.integration_id == integration_id))
    return sorted((str(j.record_id), j.operation, j.priority) for j in rows)


def test_changes_enqueue_one_coalesced_job_per_record(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    pushing = _integration(db, tenant, objects={"contacts": "both"})
    inbound_only = _integration(db, tenant, objects={"contacts": "inbound"})
    h = tenant.headers()
    made = client.post("/api/v1/contacts", json={"email": "o@x.com"}, headers=h).json()
    client.patch(f"/api/v1/contacts/{made['id']}", json={"city": "Rome"}, headers=h)
    client.patch(f"/api/v1/contacts/{made['id']}", json={"city": "Rome"}, headers=h)
    assert _jobs(db, pushing) == [(made["id"], "upsert", 0)]
    batch = client.post(
        "/api/v1/contacts/batch",
        json={"items": [{"email": "o@x.com", "city": "Oslo"}, {"email": "n@x.com"}, {"bad": 1}]},
        headers=h,
    ).json()["results"]
    ids = {made["id"], batch[1]["id"]}
    assert {j[0] for j in _jobs(db, pushing)} == ids and len(_jobs(db, pushing)) == 2
    assert _jobs(db, inbound_only) == []
    # Companies are not pushed by this integration.
    client.post("/api/v1/companies", json={"name": "Acme"}, headers=h)
    assert len(_jobs(db, pushing)) == 2


def test_deletes_are_pushed_only_with_delete_propagation(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    keeps = _integration(db, tenant, objects={"leads": "outbound"})
    propagates = _integration(db, tenant, objects={"leads": "outbound"}, delete_propagation=True)
    h = tenant.headers()
    lead = client.post("/api/v1/leads", json={"first_name": "D"}, headers=h).json()
    client.delete(f"/api/v1/leads/{lead['id']}", headers=h)
    assert [j[1] for j in _jobs(db, keeps)] == ["upsert"]
    assert sorted(j[1] for j in _jobs(db, propagates)) == ["delete", "upsert"]


def test_no_echo_to_the_integration_a_change_came_from(tenant: Tenant, db: Session) -> None:
    origin = _integration(db, tenant, objects={"contacts": "both"})
    other = _integration(db, tenant, objects={"contacts": "both"})
    service.upsert_records(db, tenant.id, "contacts", [{"email": "e@x.com"}], f"crm:{origin}")
    db.commit()
    assert _jobs(db, origin) == []
    assert len(_jobs(db, other)) == 1


def test_disabled_and_paused_auto_sync_enqueue_nothing(tenant: Tenant, db: Session) -> None:
    disabled = _integration(db, tenant, objects={"contacts": "both"})
    db.get(Integration, disabled).status = "disabled"  # type: ignore[union-attr]
    manual = _integration(db, tenant, objects={"contacts": "both"}, auto_sync=False)
    service.create_record(db, tenant.id, "contacts", {"email": "q@x.com"}, "api")
    db.commit()
    assert _jobs(db, disabled) == [] and _jobs(db, manual) == []


def test_coalescing_keeps_the_higher_priority(tenant: Tenant, db: Session) -> None:
    integration = _integration(db, tenant, objects={"deals": "outbound"})
    deal = service.create_record(db, tenant.id, "deals", {"name": "x"}, "api")
    db.commit()
    mine = SyncJob.__table__.update().where(SyncJob.integration_id == integration)
    db.execute(mine.values(priority=outbox.Priority.BACKFILL))
    db.commit()
    outbox.enqueue(db, tenant.id, "deals", [deal.id], priority=outbox.Priority.SCHEDULED)
    db.commit()
    assert _jobs(db, integration) == [(str(deal.id), "upsert", 1)]
    # A job that is running does not absorb a new change: the change gets its own job.
    db.execute(mine.values(status="running"))
    outbox.enqueue(db, tenant.id, "deals", [deal.id])
    db.commit()
    assert len(_jobs(db, integration)) == 2


def test_a_rolled_back_change_leaves_no_job(tenant: Tenant, db: Session) -> None:
    integration = _integration(db, tenant, objects={"notes": "both"})
    service.create_record(db, tenant.id, "notes", {"body": "gone"}, "api")
    db.rollback()
    assert _jobs(db, integration) == []
