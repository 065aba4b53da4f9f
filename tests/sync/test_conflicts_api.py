"""Listing and resolving conflicts over the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import RemoteRecord
from crmsync.mapping.defaults import default_mapping
from crmsync.records import service
from crmsync.records.errors import RecordInvalid
from crmsync.store.models import ChangeLog, ConflictStatus, Integration, Link, SyncJob
from crmsync.sync.conflicts import Resolution, list_conflicts, resolve
from crmsync.sync.inbound import apply_remote
from tests.conftest import Tenant


def _conflicted(db: Session, tenant: Tenant, n_fields: int = 1) -> tuple[Integration, str]:
    integration = Integration(
        workspace_id=tenant.id,
        provider="hubspot",
        name="m",
        config={"objects": {"contacts": "both"}, "conflict_policy": "manual"},
    )
    db.add(integration)
    db.flush()
    contact = service.create_record(db, tenant.id, "contacts", {"email": "c@x.com"}, "api")
    db.add(
        Link(
            workspace_id=tenant.id,
            integration_id=integration.id,
            object_type="contacts",
            record_id=contact.id,
            remote_id="r9",
            last_synced_at=datetime.now(UTC),
        )
    )
    db.commit()
    service.update_record(
        db, tenant.id, "contacts", contact.id, {"city": "Rome", "state": "Lazio"}, "api"
    )
    db.commit()
    props = {"city": "Paris", "state": "IDF"} if n_fields == 2 else {"city": "Paris"}
    apply_remote(
        db,
        integration,
        "contacts",
        RemoteRecord("r9", props, datetime.now(UTC)),
        default_mapping("hubspot"),
        datetime.now(UTC),
    )
    db.commit()
    return integration, str(contact.id)


def test_list_and_resolve_each_way(
    client: TestClient, tenant: Tenant, db: Session, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    integration, contact_id = _conflicted(db, tenant, n_fields=2)
    h = tenant.headers()
    page = client.get("/api/v1/conflicts", params={"limit": 1}, headers=h).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = client.get("/api/v1/conflicts", params={"cursor": page["next_cursor"]}, headers=h).json()
    by_field = {c["field"]: c for c in page["items"] + rest["items"]}
    assert set(by_field) == {"city", "state"}
    assert (by_field["city"]["local_value"], by_field["city"]["remote_value"]) == ("Rome", "Paris")
    assert (
        make_tenant().headers()
        and client.get("/api/v1/conflicts", headers=make_tenant().headers()).json()["items"] == []
    )

    taken = client.post(
        f"/api/v1/conflicts/{by_field['city']['id']}/resolve",
        json={"resolution": "remote"},
        headers=h,
    )
    assert taken.status_code == 200 and taken.json()["status"] == "resolved"
    contact = client.get(f"/api/v1/contacts/{contact_id}", headers=h).json()
    assert contact["city"] == "Paris"
    last = db.scalars(
        select(ChangeLog).where(ChangeLog.field == "city").order_by(ChangeLog.id.desc())
    ).first()
    assert last is not None and last.source == f"crm:{integration.id}"

    custom = client.post(
        f"/api/v1/conflicts/{by_field['state']['id']}/resolve",
        json={"resolution": "custom", "value": "Lombardy"},
        headers=h,
    )
    assert custom.status_code == 200
    assert client.get(f"/api/v1/contacts/{contact_id}", headers=h).json()["state"] == "Lombardy"
    again = client.post(
        f"/api/v1/conflicts/{by_field['state']['id']}/resolve",
        json={"resolution": "local"},
        headers=h,
    )
    assert again.status_code == 422
    assert client.get("/api/v1/conflicts", headers=h).json()["items"] == []
    resolved = client.get("/api/v1/conflicts", params={"status": "resolved"}, headers=h).json()
    assert {c["resolution"] for c in resolved["items"]} == {"remote", "custom"}


def test_keep_local_pushes_the_record(client: TestClient, tenant: Tenant, db: Session) -> None:
    integration, contact_id = _conflicted(db, tenant)
    conflict = client.get("/api/v1/conflicts", headers=tenant.headers()).json()["items"][0]
    db.execute(SyncJob.__table__.delete().where(SyncJob.integration_id == integration.id))
    db.commit()
    client.post(
        f"/api/v1/conflicts/{conflict['id']}/resolve",
        json={"resolution": "local"},
        headers=tenant.headers(),
    )
    jobs = db.scalars(select(SyncJob).where(SyncJob.integration_id == integration.id)).all()
    assert [str(j.record_id) for j in jobs] == [contact_id]
    bad = client.post(
        f"/api/v1/conflicts/{conflict['id']}/resolve",
        json={"resolution": "remote", "value": 1},
        headers=tenant.headers(),
    )
    assert bad.status_code == 422


def test_a_conflict_the_crm_comes_round_on_closes_as_agreed(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    integration, contact_id = _conflicted(db, tenant)
    h = tenant.headers()
    (conflict,) = client.get("/api/v1/conflicts", headers=h).json()["items"]
    picked = client.post(  # a person picks local, remote or custom; `agreed` only happens
        f"/api/v1/conflicts/{conflict['id']}/resolve", json={"resolution": "agreed"}, headers=h
    )
    assert picked.status_code == 422 and "'local', 'remote' or 'custom'" in picked.text
    apply_remote(  # the CRM now holds the app's value: nothing is left to decide
        db,
        integration,
        "contacts",
        RemoteRecord("r9", {"city": "Rome"}, datetime.now(UTC)),
        default_mapping("hubspot"),
        datetime.now(UTC),
    )
    db.commit()
    assert client.get("/api/v1/conflicts", headers=h).json()["items"] == []
    resolved = client.get("/api/v1/conflicts", params={"status": "resolved"}, headers=h).json()
    assert [(c["id"], c["resolution"]) for c in resolved["items"]] == [(conflict["id"], "agreed")]
    assert client.get(f"/api/v1/contacts/{contact_id}", headers=h).json()["city"] == "Rome"


def test_agreed_is_not_a_resolution_a_person_picks(db: Session, tenant: Tenant) -> None:
    _conflicted(db, tenant)
    (conflict,) = list_conflicts(db, tenant.id)
    with pytest.raises(RecordInvalid, match="not a choice"):
        resolve(db, tenant.id, conflict.id, Resolution.AGREED)
    assert conflict.status == ConflictStatus.OPEN
