"""Merging contacts in the store: strategies field by field, what moves, what resolves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.dedup.merge import merge
from crmsync.records import service
from crmsync.records.errors import RecordConflict, RecordInvalid, RecordNotFound
from crmsync.store.models import (
    ChangeLog,
    Contact,
    Enrollment,
    EnrollmentStatus,
    Integration,
    Journey,
    Link,
    MergedRecord,
    SyncJob,
    Touchpoint,
)
from tests.conftest import Tenant


def _contact(db: Session, tenant: Tenant, created: datetime, **fields: Any) -> Contact:
    record = service.create_record(db, tenant.id, "contacts", fields, "api")
    assert isinstance(record, Contact)
    record.created_at = created  # "new" is by creation time
    db.flush()
    return record


@pytest.fixture
def pair(db: Session, tenant: Tenant) -> tuple[Contact, Contact]:
    """An older survivor and a newer duplicate; each later changed one field of its own."""
    t0 = datetime.now(UTC) - timedelta(days=2)
    survivor = _contact(
        db,
        tenant,
        t0,
        first_name="Robert",
        last_name="Allen",
        email="rob@acme.com",
        city="Austin",
        custom_fields={"a": 1, "shared": "s"},
    )
    duplicate = _contact(
        db,
        tenant,
        t0 + timedelta(days=1),
        first_name="Bob",
        last_name="Allen",
        email="Bob@Gmail.com",
        city="Boston",
        phone="+1 415 555 0134",
        company="Acme",
        custom_fields={"b": 2, "shared": "m"},
    )
    # Written after both were created: the survivor's city, the duplicate's first name.
    service.update_record(db, tenant.id, "contacts", survivor.id, {"city": "Dallas"}, "api")
    service.update_record(db, tenant.id, "contacts", duplicate.id, {"first_name": "Bobby"}, "api")
    db.commit()
    return survivor, duplicate


EXPECTED: dict[str, dict[str, Any]] = {
    # the newest record's values win; its blanks are filled from the others
    "prefer_new": {
        "first_name": "Bobby",
        "email": "Bob@Gmail.com",
        "email_key": "bob@gmail.com",
        "city": "Boston",
        "custom_fields": {"a": 1, "b": 2, "shared": "m"},
    },
    # the oldest record's values win; the duplicate only fills its blanks
    "prefer_existing": {
        "first_name": "Robert",
        "email": "rob@acme.com",
        "email_key": "rob@acme.com",
        "city": "Dallas",
        "custom_fields": {"a": 1, "b": 2, "shared": "s"},
    },
    # per field the value written last: the survivor's later city, the duplicate's name
    # and (created later) email and custom fields
    "merge": {
        "first_name": "Bobby",
        "email": "Bob@Gmail.com",
        "email_key": "bob@gmail.com",
        "city": "Dallas",
        "custom_fields": {"a": 1, "b": 2, "shared": "m"},
    },
}


@pytest.mark.parametrize("strategy", sorted(EXPECTED))
def test_strategy_field_by_field(
    db: Session, tenant: Tenant, pair: tuple[Contact, Contact], strategy: str
) -> None:
    survivor, duplicate = pair
    version = survivor.version
    result = merge(db, tenant.id, survivor.id, [duplicate.id], strategy)
    db.commit()
    kept = db.get(Contact, survivor.id)
    assert kept is not None and kept.deleted_at is None
    for name, value in EXPECTED[strategy].items():
        assert getattr(kept, name) == value, name
    # blanks of every strategy are filled, never emptied
    assert (kept.last_name, kept.company, kept.phone_key) == ("Allen", "Acme", "+14155550134")
    assert kept.version == version + 1
    gone = db.get(Contact, duplicate.id)
    assert gone is not None and gone.deleted_at is not None
    filled = {"company", "phone"}  # blank on the survivor
    assert set(result.changed_fields) == filled | CHANGED[strategy]


# what each strategy changes on the survivor besides the blanks it fills
CHANGED = {
    "prefer_new": {"first_name", "email", "city", "custom_fields"},
    "prefer_existing": {"custom_fields"},
    "merge": {"first_name", "email", "custom_fields"},
}


def test_changelog_marks_the_merge(
    db: Session, tenant: Tenant, pair: tuple[Contact, Contact]
) -> None:
    survivor, duplicate = pair
    result = merge(db, tenant.id, survivor.id, [duplicate.id], "prefer_existing")
    db.commit()
    rows = db.scalars(select(ChangeLog).where(ChangeLog.source == "merge")).all()
    ours = {(r.record_id, r.field): r for r in rows if r.workspace_id == tenant.id}
    assert {f for r, f in ours if r == survivor.id} == set(result.changed_fields)
    assert ours[(survivor.id, "company")].new_value == "Acme"
    assert ours[(survivor.id, "company")].old_value is None
    assert ours[(duplicate.id, "merged_into")].new_value == str(survivor.id)
    assert ours[(duplicate.id, "deleted_at")].new_value is not None


def test_references_move_to_the_survivor(
    db: Session, tenant: Tenant, pair: tuple[Contact, Contact]
) -> None:
    survivor, duplicate = pair
    made = {
        "activities": {"type": "call", "contact_id": str(duplicate.id)},
        "notes": {"body": "met at the fair", "contact_id": str(duplicate.id)},
        "deals": {"name": "House", "contact_id": str(duplicate.id)},
        "leads": {"first_name": "Bob", "contact_id": str(duplicate.id)},
        "tickets": {"subject": "help", "contact_id": str(duplicate.id)},
    }
    ids = {t: service.create_record(db, tenant.id, t, body, "api").id for t, body in made.items()}
    own_note = service.create_record(
        db, tenant.id, "notes", {"body": "mine", "contact_id": str(survivor.id)}, "api"
    )
    db.commit()
    result = merge(db, tenant.id, survivor.id, [duplicate.id], "merge")
    db.commit()
    assert result.moved == {t: 1 for t in made} | {"links": 0, "touchpoints": 0, "enrollments": 0}
    for record_type, record_id in ids.items():
        moved = service.get_record(db, tenant.id, record_type, record_id)
        assert moved.contact_id == survivor.id, record_type  # type: ignore[attr-defined]
        row = db.scalar(
            select(ChangeLog)
            .where(ChangeLog.record_id == record_id, ChangeLog.field == "contact_id")
            .order_by(ChangeLog.at.desc())
            .limit(1)
        )
        assert row is not None and row.source == "merge"
        assert row.old_value == str(duplicate.id) and row.new_value == str(survivor.id)
    assert service.get_record(db, tenant.id, "notes", own_note.id).version == 1


def test_merged_away_ids_resolve_through_a_chain(db: Session, tenant: Tenant) -> None:
    now = datetime.now(UTC)
    a, b, c = (
        _contact(
            db, tenant, now - timedelta(hours=h), email=f"p{h}@example.com", external_ref=f"r{h}"
        )
        for h in (3, 2, 1)
    )
    db.commit()
    merge(db, tenant.id, a.id, [b.id], "merge")
    db.commit()
    assert service.get_record(db, tenant.id, "contacts", b.id).id == a.id
    merge(db, tenant.id, c.id, [a.id], "merge")
    db.commit()
    for old in (a.id, b.id):
        assert service.get_record(db, tenant.id, "contacts", old).id == c.id
    rows = db.scalars(select(MergedRecord).where(MergedRecord.workspace_id == tenant.id)).all()
    assert {(r.merged_id, r.survivor_id) for r in rows} == {(a.id, c.id), (b.id, c.id)}
    # deleting through a merged-away id does not delete the survivor
    with pytest.raises(RecordNotFound):
        service.delete_record(db, tenant.id, "contacts", b.id, "api")
    # an upsert by a merged-away record's external_ref lands on the survivor
    [result] = service.upsert_records(
        db, tenant.id, "contacts", [{"external_ref": "r2", "city": "Lyon"}], "api"
    )
    db.commit()
    assert (result.status, result.id) == ("updated", c.id)
    assert service.get_record(db, tenant.id, "contacts", c.id).city == "Lyon"  # type: ignore[attr-defined]
    assert db.get(Contact, b.id).deleted_at is not None  # type: ignore[union-attr]


def test_external_ref_moves_to_a_survivor_without_one(db: Session, tenant: Tenant) -> None:
    now = datetime.now(UTC)
    survivor = _contact(db, tenant, now - timedelta(hours=2), email="s@example.com")
    duplicate = _contact(db, tenant, now, email="d@example.com", external_ref="app-7")
    db.commit()
    result = merge(db, tenant.id, survivor.id, [duplicate.id], "prefer_existing")
    db.commit()
    assert "external_ref" in result.changed_fields
    assert db.get(Contact, survivor.id).external_ref == "app-7"  # type: ignore[union-attr]
    assert db.get(Contact, duplicate.id).external_ref is None  # type: ignore[union-attr]
    moved = db.scalars(
        select(ChangeLog).where(ChangeLog.source == "merge", ChangeLog.field == "external_ref")
    ).all()
    assert {(r.record_id, r.old_value, r.new_value) for r in moved} >= {
        (survivor.id, None, "app-7"),
        (duplicate.id, "app-7", None),
    }


def test_refusals(db: Session, tenant: Tenant, make_tenant: Any) -> None:
    other = make_tenant()  # first: SQLite lets one session write at a time
    now = datetime.now(UTC)
    a, b = (_contact(db, tenant, now, email=f"x{i}@example.com") for i in range(2))
    foreign = _contact(db, other, now, email="f@example.com")
    db.commit()
    with pytest.raises(RecordInvalid, match="itself"):
        merge(db, tenant.id, a.id, [a.id], "merge")
    with pytest.raises(RecordInvalid, match="strategy"):
        merge(db, tenant.id, a.id, [b.id], "newest")
    with pytest.raises(RecordInvalid):
        merge(db, tenant.id, a.id, [], "merge")
    with pytest.raises(RecordNotFound):
        merge(db, tenant.id, a.id, [foreign.id], "merge")
    with pytest.raises(RecordNotFound):
        merge(db, tenant.id, a.id, [uuid.uuid4()], "merge")
    db.rollback()
    merge(db, tenant.id, a.id, [b.id], "merge")
    db.commit()
    with pytest.raises(RecordConflict, match="already merged"):
        merge(db, tenant.id, a.id, [b.id], "merge")
    with pytest.raises(RecordConflict):
        merge(db, tenant.id, b.id, [a.id], "merge")


def _integration(db: Session, tenant: Tenant, direction: str, **config: Any) -> Integration:
    integration = Integration(
        workspace_id=tenant.id,
        provider="hubspot",
        name=f"hs-{direction}",
        config={"objects": {"contacts": direction}, **config},
    )
    db.add(integration)
    db.flush()
    return integration


def _link(db: Session, integration: Integration, record_id: uuid.UUID, remote_id: str) -> Link:
    link = Link(
        workspace_id=integration.workspace_id,
        integration_id=integration.id,
        object_type="contacts",
        record_id=record_id,
        remote_id=remote_id,
        last_pushed_hash="h",
    )
    db.add(link)
    db.flush()
    return link


def test_links_move_and_crm_jobs_are_enqueued(
    db: Session, tenant: Tenant, pair: tuple[Contact, Contact]
) -> None:
    survivor, duplicate = pair
    both = _integration(db, tenant, "both")  # each contact has its own remote record
    only_dup = _integration(db, tenant, "outbound")  # only the duplicate is linked
    inbound = _integration(db, tenant, "inbound")  # never pushed to
    _link(db, both, survivor.id, "100")
    dup_link = _link(db, both, duplicate.id, "200")
    moved_link = _link(db, only_dup, duplicate.id, "300")
    _link(db, inbound, duplicate.id, "400")
    db.query(SyncJob).filter(SyncJob.workspace_id == tenant.id).delete()
    db.commit()

    result = merge(db, tenant.id, survivor.id, [duplicate.id], "merge")
    db.commit()

    assert result.moved["links"] == 2  # to only_dup's and inbound's remote records
    assert moved_link.record_id == survivor.id and moved_link.last_pushed_hash is None
    assert dup_link.record_id == duplicate.id  # stays for the merge job to resolve
    jobs = db.scalars(select(SyncJob).where(SyncJob.workspace_id == tenant.id)).all()
    assert {(j.integration_id, j.record_id, j.operation) for j in jobs} == {
        (both.id, survivor.id, "upsert"),
        (only_dup.id, survivor.id, "upsert"),
        (both.id, duplicate.id, "merge"),
    }
    assert result.crm_jobs == {"upsert": 2, "merge": 1}


def test_touches_and_journey_enrolments_move_to_the_survivor(
    db: Session, tenant: Tenant, pair: tuple[Contact, Contact]
) -> None:
    survivor, duplicate = pair
    integration = Integration(workspace_id=tenant.id, provider="totalexpert", name="te")
    db.add(integration)
    db.flush()
    journeys = {}
    for name in ("welcome", "nurture", "renewal"):
        journeys[name] = Journey(
            workspace_id=tenant.id, integration_id=integration.id, remote_id=name, name=name
        )
        db.add(journeys[name])
    db.flush()
    at = datetime.now(UTC) - timedelta(days=1)
    touches = [
        Touchpoint(workspace_id=tenant.id, contact_id=who.id, occurred_at=at, channel=channel)
        for who, channel in [(duplicate, "email"), (duplicate, "paid_search"), (survivor, "web")]
    ]

    def enrol(who: Contact, journey: str, status: EnrollmentStatus) -> Enrollment:
        return Enrollment(
            workspace_id=tenant.id,
            journey_id=journeys[journey].id,
            contact_id=who.id,
            status=status,
        )

    mine = enrol(survivor, "welcome", EnrollmentStatus.ACTIVE)
    twice = enrol(duplicate, "welcome", EnrollmentStatus.ACTIVE)  # one person, one journey once
    only_dup = enrol(duplicate, "nurture", EnrollmentStatus.ACTIVE)
    history = enrol(duplicate, "renewal", EnrollmentStatus.COMPLETED)
    db.add_all([*touches, mine, twice, only_dup, history])
    db.query(SyncJob).filter(SyncJob.workspace_id == tenant.id).delete()
    db.commit()

    result = merge(db, tenant.id, survivor.id, [duplicate.id], "merge")
    db.commit()

    assert (result.moved["touchpoints"], result.moved["enrollments"]) == (2, 3)
    owners = db.scalars(select(Touchpoint.contact_id).where(Touchpoint.workspace_id == tenant.id))
    assert set(owners) == {survivor.id}
    states = {
        (db.get(Journey, e.journey_id).name, e.status, e.ended_by)  # type: ignore[union-attr]
        for e in db.scalars(select(Enrollment).where(Enrollment.contact_id == survivor.id))
    }
    assert states == {
        ("welcome", "active", None),
        ("welcome", "unenrolled", "merge"),
        ("nurture", "active", None),
        ("renewal", "completed", None),
    }
    pushed = db.scalars(
        select(SyncJob.record_id).where(
            SyncJob.workspace_id == tenant.id, SyncJob.object_type == "enrollments"
        )
    ).all()
    assert sorted(pushed) == sorted([twice.id, only_dup.id])  # the CRM hears of both
