"""Batch upsert patches plain rows; it must leave what one-by-one ORM updates leave."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.records import service
from crmsync.records.payloads import parse_fields
from crmsync.store.models import ChangeLog, Contact
from tests.conftest import Tenant

SEED: list[dict[str, Any]] = [
    {"external_ref": "r0", "email": "a0@x.example", "first_name": "Ann", "lifecycle_stage": "lead"},
    {"email": "a1@x.example", "first_name": "Bo", "phone": "(206) 555-0100"},
    {"external_ref": "r2", "email": "a2@x.example", "first_name": "Cy", "city": "Austin"},
]
# (seed index the item matches, item). Two items reach each record, one of them a no-op.
PATCHES: list[tuple[int, dict[str, Any]]] = [
    (0, {"external_ref": "r0", "lifecycle_stage": "customer", "engagement_score": 12.5}),
    (1, {"email": "A1@X.example", "phone": "+44 20 7946 0958", "job_title": "Nurse"}),
    (0, {"external_ref": "r0", "city": "Boston", "lifecycle_stage": "customer"}),
    (2, {"external_ref": "r2", "first_name": "Cy", "city": "Austin"}),
    (1, {"email": "a1@x.example", "custom_fields": {"tier": "gold"}, "job_title": "Nurse"}),
    (2, {"external_ref": "r2", "phone": "206 555 0199", "city": None}),
]
SKIPPED = {"id", "workspace_id", "created_at", "updated_at"}


def _seed(db: Session, workspace_id: uuid.UUID) -> list[uuid.UUID]:
    results = service.upsert_records(db, workspace_id, "contacts", SEED, "api")
    db.commit()
    return [r.id for r in results if r.id is not None]


def _state(db: Session, ids: list[uuid.UUID]) -> list[tuple[dict[str, Any], list[Any]]]:
    """Each record's columns (but its keys and times) and its ChangeLog after the seed."""
    db.expire_all()
    out = []
    for record_id in ids:
        contact = db.get(Contact, record_id)
        assert contact is not None
        columns = {c.key: getattr(contact, c.key) for c in Contact.__table__.columns}
        log = db.scalars(
            select(ChangeLog)
            .where(ChangeLog.record_id == record_id, ChangeLog.source == "crm:test")
            .order_by(ChangeLog.id)
        )
        changes = [(c.field, c.old_value, c.new_value) for c in log]
        out.append(({k: v for k, v in columns.items() if k not in SKIPPED}, changes))
    return out


def test_a_batch_leaves_what_updates_one_by_one_leave(
    db: Session, make_tenant: Callable[[], Tenant]
) -> None:
    batched, single = make_tenant(), make_tenant()
    batched_ids, single_ids = _seed(db, batched.id), _seed(db, single.id)

    results = service.upsert_records(
        db, batched.id, "contacts", [item for _, item in PATCHES], "crm:test"
    )
    for target, item in PATCHES:
        service.update_record(db, single.id, "contacts", single_ids[target], item, "crm:test")
    db.commit()

    assert [r.status for r in results] == ["updated"] * len(PATCHES)
    assert [r.id for r in results] == [batched_ids[t] for t, _ in PATCHES]
    got, want = _state(db, batched_ids), _state(db, single_ids)
    assert got == want
    # the comparison is not vacuous: versions moved once per item that changed something
    assert [columns["version"] for columns, _ in got] == [3, 3, 2]
    assert got[1][0]["phone_key"] == "+442079460958"
    assert ("city", "Austin", None) in got[2][1]


def test_an_orm_copy_in_the_session_sees_the_batch(db: Session, tenant: Tenant) -> None:
    [record_id] = _seed(db, tenant.id)[:1]
    loaded = db.get(Contact, record_id)
    assert loaded is not None and loaded.lifecycle_stage == "lead"
    service.upsert_records(
        db, tenant.id, "contacts", [{"external_ref": "r0", "lifecycle_stage": "customer"}], "api"
    )
    assert loaded.lifecycle_stage == "customer"
    assert loaded.version == 2


def test_pending_orm_changes_are_what_a_batch_matches(db: Session, tenant: Tenant) -> None:
    """A change made through the ORM and not yet flushed is seen, not overwritten."""
    [record_id] = _seed(db, tenant.id)[:1]
    loaded = db.get(Contact, record_id)
    assert loaded is not None
    loaded.city = "Denver"
    service.upsert_records(
        db, tenant.id, "contacts", [{"external_ref": "r0", "first_name": "Anne"}], "api"
    )
    db.commit()
    db.expire_all()
    stored = db.get(Contact, record_id)
    assert stored is not None and (stored.city, stored.first_name) == ("Denver", "Anne")


def test_payloads_parsed_already_write_what_parsing_them_writes(
    db: Session, make_tenant: Callable[[], Tenant]
) -> None:
    parsed, raw = make_tenant(), make_tenant()
    items = [*SEED, *(item for _, item in PATCHES), {"first_name": "Di", "custom_fields": {}}]
    answers = [parse_fields("contacts", item) for item in items]
    got = service.upsert_records(
        db, parsed.id, "contacts", answers, "crm:test", already_parsed=True
    )
    want = service.upsert_records(db, raw.id, "contacts", items, "crm:test")
    db.commit()

    assert [(r.status, r.error) for r in got] == [(r.status, r.error) for r in want]
    ids = [r.id for r in got if r.id is not None]
    assert _state(db, ids) == _state(db, [r.id for r in want if r.id is not None])
    created = db.scalars(
        select(ChangeLog.new_value).where(ChangeLog.record_id == ids[0], ChangeLog.field == "*")
    )
    # the items that follow r0's in the batch fold into its one create row
    assert list(created) == [{"external_ref": "r0", "email": "a0@x.example", "first_name": "Ann",
                              "lifecycle_stage": "customer", "engagement_score": 12.5,
                              "city": "Boston"}]  # fmt: skip
