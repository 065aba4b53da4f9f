"""Applying CRM records under each conflict policy, with no echo back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import RemoteRecord
from crmsync.mapping.defaults import default_mapping
from crmsync.records import service
from crmsync.store.models import ChangeLog, Conflict, Contact, Integration, Link, SyncJob
from crmsync.sync.inbound import apply_remote
from tests.conftest import Tenant

HUBSPOT = default_mapping("hubspot")
LATER = timedelta(hours=1)


def _integration(db: Session, tenant: Tenant, policy: str, **extra: Any) -> Integration:
    integration = Integration(
        workspace_id=tenant.id,
        provider="hubspot",
        name=policy,
        config={"objects": {"contacts": "both"}, "conflict_policy": policy, **extra},
    )
    db.add(integration)
    db.commit()
    return integration


def _remote(rid: str, at: datetime | None, **props: Any) -> RemoteRecord:
    return RemoteRecord(rid, props, modified_at=at)


def test_new_remote_contact_is_created_linked_and_not_echoed(tenant: Tenant, db: Session) -> None:
    hs = _integration(db, tenant, "crm_wins")
    other = _integration(db, tenant, "crm_wins")
    now = datetime.now(UTC)
    applied = apply_remote(
        db, hs, "contacts", _remote("h1", now, email="New@X.com", firstname="Nia"), HUBSPOT, now
    )
    db.commit()
    assert applied.outcome == "created"
    contact = db.get(Contact, applied.record_id)
    assert contact is not None and (contact.email, contact.first_name) == ("new@x.com", "Nia")
    link = db.scalar(select(Link).where(Link.integration_id == hs.id))
    assert link is not None and link.remote_id == "h1" and link.record_id == contact.id
    sources = {
        r.source for r in db.scalars(select(ChangeLog).where(ChangeLog.record_id == contact.id))
    }
    assert sources == {f"crm:{hs.id}"}
    jobs = db.scalars(select(SyncJob).where(SyncJob.record_id == contact.id)).all()
    assert [j.integration_id for j in jobs] == [other.id]  # pushed on, never back


def test_unlinked_remote_contact_matches_by_email(tenant: Tenant, db: Session) -> None:
    hs = _integration(db, tenant, "crm_wins")
    mine = service.create_record(db, tenant.id, "contacts", {"email": "m@x.com"}, "api")
    db.commit()
    now = datetime.now(UTC)
    applied = apply_remote(
        db, hs, "contacts", _remote("h2", now, email="M@x.com", city="Kyiv"), HUBSPOT, now
    )
    assert (applied.outcome, applied.record_id) == ("updated", mine.id)


def _linked(db: Session, tenant: Tenant, policy: str) -> tuple[Integration, Contact, datetime]:
    integration = _integration(db, tenant, policy)
    contact = service.create_record(
        db, tenant.id, "contacts", {"email": "l@x.com", "first_name": "Lee", "city": "Oslo"}, "api"
    )
    synced = datetime.now(UTC)
    db.add(
        Link(
            workspace_id=tenant.id,
            integration_id=integration.id,
            object_type="contacts",
            record_id=contact.id,
            remote_id="r1",
            last_synced_at=synced,
            remote_modified_at=synced,  # the CRM's stamp on the copy last seen
        )
    )
    db.commit()
    return integration, contact, synced  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("policy", "remote_offset", "expected_first", "expected_city"),
    [
        ("crm_wins", -LATER, "Leo", "Bergen"),
        ("app_wins", LATER, "Lee", "Oslo"),
        ("last_write_wins", LATER, "Leo", "Bergen"),
        ("last_write_wins", -LATER, "Lee", "Oslo"),
    ],
)
def test_policies(
    tenant: Tenant,
    db: Session,
    policy: str,
    remote_offset: timedelta,
    expected_first: str,
    expected_city: str,
) -> None:
    integration, contact, synced = _linked(db, tenant, policy)
    remote = _remote("r1", synced + remote_offset, email="l@x.com", firstname="Leo", city="Bergen")
    apply_remote(db, integration, "contacts", remote, HUBSPOT, datetime.now(UTC))
    db.commit()
    db.refresh(contact)
    assert (contact.first_name, contact.city) == (expected_first, expected_city)


def test_app_wins_still_fills_blanks(tenant: Tenant, db: Session) -> None:
    integration, contact, synced = _linked(db, tenant, "app_wins")
    apply_remote(
        db,
        integration,
        "contacts",
        _remote("r1", synced, firstname="Leo", jobtitle="CFO"),
        HUBSPOT,
        datetime.now(UTC),
    )
    db.commit()
    db.refresh(contact)
    assert (contact.first_name, contact.job_title) == ("Lee", "CFO")


def test_last_write_wins_is_per_field(tenant: Tenant, db: Session) -> None:
    integration, contact, _synced = _linked(db, tenant, "last_write_wins")
    remote_at = datetime.now(UTC)
    service.update_record(
        db, tenant.id, "contacts", contact.id, {"city": "Rome"}, "api"
    )  # after the CRM edit
    db.commit()
    remote = _remote("r1", remote_at, email="l@x.com", firstname="Leo", city="Bergen")
    apply_remote(db, integration, "contacts", remote, HUBSPOT, datetime.now(UTC))
    db.commit()
    db.refresh(contact)
    assert (contact.first_name, contact.city) == ("Leo", "Rome")


def test_last_write_wins_takes_a_crm_edit_stamped_coarser_than_the_apps_clock(
    tenant: Tenant, db: Session
) -> None:
    # Salesforce stamps whole seconds: an edit made just after crmsync's push can carry a
    # time before the app's own (already synced) change. It is still the newer write.
    integration, contact, synced = _linked(db, tenant, "last_write_wins")
    stamp = synced - timedelta(milliseconds=900)  # before the app's create, same second
    link = db.scalar(select(Link).where(Link.integration_id == integration.id))
    assert link is not None
    link.remote_modified_at = stamp
    db.commit()
    remote = _remote("r1", stamp, email="l@x.com", firstname="Leo", city="Oslo")
    applied = apply_remote(db, integration, "contacts", remote, HUBSPOT, datetime.now(UTC))
    db.commit()
    db.refresh(contact)
    assert (applied.outcome, contact.first_name) == ("updated", "Leo")


def test_last_write_wins_ignores_a_copy_older_than_the_one_last_seen(
    tenant: Tenant, db: Session
) -> None:
    integration, contact, synced = _linked(db, tenant, "last_write_wins")
    stale = _remote("r1", synced - timedelta(seconds=1), email="l@x.com", firstname="Leo")
    applied = apply_remote(db, integration, "contacts", stale, HUBSPOT, datetime.now(UTC))
    db.commit()
    db.refresh(contact)
    assert (applied.outcome, contact.first_name) == ("unchanged", "Lee")
    link = db.scalar(select(Link).where(Link.integration_id == integration.id))
    assert link is not None and link.remote_modified_at == synced  # not moved back


def test_manual_opens_one_conflict_per_field_changed_on_both_sides(
    tenant: Tenant, db: Session
) -> None:
    integration, contact, _synced = _linked(db, tenant, "manual")
    service.update_record(db, tenant.id, "contacts", contact.id, {"city": "Rome"}, "api")
    db.commit()
    for city in ("Bergen", "Tromsø"):
        applied = apply_remote(
            db,
            integration,
            "contacts",
            _remote("r1", datetime.now(UTC), email="l@x.com", firstname="Leo", city=city),
            HUBSPOT,
            datetime.now(UTC),
        )
        db.commit()
    db.refresh(contact)
    assert (contact.first_name, contact.city) == ("Leo", "Rome")  # untouched field taken
    conflicts = db.scalars(select(Conflict).where(Conflict.record_id == contact.id)).all()
    assert len(conflicts) == 1
    assert (conflicts[0].field, conflicts[0].local_value, conflicts[0].remote_value) == (
        "city",
        "Rome",
        "Tromsø",
    )
    assert applied.outcome == "unchanged"  # the second delivery only refreshed the conflict


def test_remote_deletion_unlinks_and_deletes_only_with_propagation(
    tenant: Tenant, db: Session
) -> None:
    keep = _integration(db, tenant, "crm_wins")
    now = datetime.now(UTC)
    first = apply_remote(db, keep, "contacts", _remote("d1", now, email="d1@x.com"), HUBSPOT, now)
    gone = RemoteRecord("d1", {}, modified_at=now, archived=True)
    assert apply_remote(db, keep, "contacts", gone, HUBSPOT, now).outcome == "unchanged"
    db.commit()
    assert db.get(Contact, first.record_id).deleted_at is None  # type: ignore[union-attr]
    assert db.scalar(select(Link).where(Link.integration_id == keep.id)) is None

    drop = _integration(db, tenant, "crm_wins", delete_propagation=True)
    second = apply_remote(db, drop, "contacts", _remote("d2", now, email="d2@x.com"), HUBSPOT, now)
    gone2 = RemoteRecord("d2", {}, modified_at=now, archived=True)
    assert apply_remote(db, drop, "contacts", gone2, HUBSPOT, now).outcome == "deleted"
    db.commit()
    assert db.get(Contact, second.record_id).deleted_at is not None  # type: ignore[union-attr]


def test_invalid_remote_values_are_reported_not_raised(tenant: Tenant, db: Session) -> None:
    hs = _integration(db, tenant, "crm_wins")
    now = datetime.now(UTC)
    applied = apply_remote(
        db,
        hs,
        "contacts",
        _remote("x1", now, email="z@x.com", crmsync_contact_type="wizard"),
        HUBSPOT,
        now,
    )
    assert applied.outcome == "error" and "contact_type" in (applied.error or "")
    assert uuid.UUID(int=0) != applied.record_id
