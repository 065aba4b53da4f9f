"""Every change writes one ChangeLog row per changed field, with its source."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

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
    assert sorted(created) == sorted(
        [
            ("name", None, "House", "api"),
            ("amount", None, "1200.50", "api"),
            ("stage", None, "new", "api"),
        ]
    )
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
    assert len(_log(db, results[1]["id"])) == 3  # external_ref, email, city; nothing new
    version = client.get(f"/api/v1/contacts/{results[1]['id']}", headers=h).json()["version"]
    assert version == 1
