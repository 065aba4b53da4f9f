"""A change writes one ChangeLog row per changed field; a creation one row holding all."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.records.changelog import last_written
from crmsync.store.models import ChangeLog
from tests.conftest import Tenant


def _log(db: Session, record_id: str) -> list[tuple[str, object, object, str]]:
    rows = db.scalars(
        select(ChangeLog).where(ChangeLog.record_id == uuid.UUID(record_id)).order_by(ChangeLog.id)
    )
    return [(r.field, r.old_value, r.new_value, r.source) for r in rows]


def test_changelog_of_create_patch_delete(client: TestClient, tenant: Tenant, db: Session) -> None:
    h = tenant.headers()
    made = client.post(
        "/api/v1/deals", json={"name": "House", "amount": "1200.50", "stage": "new"}, headers=h
    ).json()
    created = _log(db, made["id"])
    assert created == [("*", None, {"name": "House", "amount": "1200.50", "stage": "new"}, "api")]
    client.patch(f"/api/v1/deals/{made['id']}", json={"stage": "won", "name": "House"}, headers=h)
    after_patch = _log(db, made["id"])[len(created) :]
    assert after_patch == [("stage", "new", "won", "api")]
    client.delete(f"/api/v1/deals/{made['id']}", headers=h)
    deleted = _log(db, made["id"])[-1]
    assert deleted[0] == "deleted_at" and deleted[1] is None and deleted[2] is not None


def test_batch_changelog_counts_only_real_changes(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    h = tenant.headers()
    items = [{"external_ref": f"c{i}", "email": f"c{i}@x.com", "city": "Oslo"} for i in range(3)]
    results = client.post("/api/v1/contacts/batch", json={"items": items}, headers=h).json()[
        "results"
    ]
    again = client.post(
        "/api/v1/contacts/batch",
        json={"items": [{**items[0], "city": "Bergen"}, items[1]]},
        headers=h,
    ).json()["results"]
    assert [r["status"] for r in again] == ["updated", "updated"]
    assert _log(db, results[0]["id"])[-1] == ("city", "Oslo", "Bergen", "api")
    assert _log(db, results[1]["id"]) == [  # the creation's one row; nothing new
        ("*", None, {"external_ref": "c1", "email": "c1@x.com", "city": "Oslo"}, "api")
    ]
    version = client.get(f"/api/v1/contacts/{results[1]['id']}", headers=h).json()["version"]
    assert version == 1


def test_a_creation_counts_as_a_change_of_every_field_it_holds(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    h = tenant.headers()
    made = client.post(
        "/api/v1/contacts", json={"email": "a@x.com", "city": "Oslo"}, headers=h
    ).json()
    record_id = uuid.UUID(made["id"])
    created = last_written(db, [record_id])
    assert set(created) == {(record_id, "email"), (record_id, "city")}
    client.patch(f"/api/v1/contacts/{made['id']}", json={"city": "Bergen"}, headers=h)
    db.expire_all()
    after = last_written(db, [record_id])
    assert after[(record_id, "email")] == created[(record_id, "email")]
    assert after[(record_id, "city")] > created[(record_id, "city")]


def _changed(record_type: str, operation: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value(
        "crmsync_records_changed_total", {"type": record_type, "operation": operation}
    )
    return value or 0.0


def test_records_changed_metric_counts_committed_changes(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    h = tenant.headers()
    before = {op: _changed("companies", op) for op in ("created", "updated", "deleted")}
    made = client.post("/api/v1/companies", json={"name": "Acme"}, headers=h).json()
    client.patch(f"/api/v1/companies/{made['id']}", json={"name": "Acme Inc"}, headers=h)
    client.patch(f"/api/v1/companies/{made['id']}", json={"name": "Acme Inc"}, headers=h)  # no-op
    client.delete(f"/api/v1/companies/{made['id']}", headers=h)
    batch = [{"name": f"Co {i}"} for i in range(3)]
    client.post("/api/v1/companies/batch", json={"items": batch}, headers=h)
    after = {op: _changed("companies", op) for op in ("created", "updated", "deleted")}
    assert after["created"] - before["created"] == 4
    assert after["updated"] - before["updated"] == 1
    assert after["deleted"] - before["deleted"] == 1


def test_records_changed_metric_ignores_rolled_back_writes(tenant: Tenant, db: Session) -> None:
    from crmsync.records.service import create_record

    before = _changed("contacts", "created")
    create_record(db, tenant.id, "contacts", {"first_name": "Ada"}, source="api")
    db.rollback()
    assert _changed("contacts", "created") == before
    create_record(db, tenant.id, "contacts", {"first_name": "Ada"}, source="api")
    db.commit()
    assert _changed("contacts", "created") == before + 1
