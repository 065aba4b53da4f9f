"""References translated through Links: CRM ids in, crmsync ids out, pending references
filled when their target arrives, and the outbound outcome of every kind of parent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import RemoteRecord
from crmsync.mapping.defaults import default_mapping
from crmsync.mapping.schema import RELATIONS, children_of, relations_of
from crmsync.records import service
from crmsync.store.models import RECORD_MODELS, Deal, Integration, Link, PendingReference, SyncJob
from crmsync.sync import references
from crmsync.sync.inbound import apply_remote
from tests.conftest import Tenant

PIPEDRIVE = default_mapping("pipedrive")
NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def _integration(db: Session, tenant: Tenant, objects: dict[str, str]) -> Integration:
    integration = Integration(
        workspace_id=tenant.id,
        provider="pipedrive",
        name="pd",
        config={"objects": objects, "conflict_policy": "crm_wins"},
    )
    db.add(integration)
    db.commit()
    return integration


def _both(db: Session, tenant: Tenant) -> Integration:
    return _integration(db, tenant, {"contacts": "both", "deals": "both", "companies": "both"})


def _person(remote_id: str, email: str) -> RemoteRecord:
    return RemoteRecord(remote_id, {"email": email, "last_name": "Lin"}, modified_at=NOW)


def _deal(remote_id: str, person: int | None, title: str = "Elm St") -> RemoteRecord:
    props: dict[str, Any] = {"title": title, "person_id": person}
    return RemoteRecord(remote_id, props, modified_at=NOW)


def test_every_relation_points_at_a_record_type_and_none_forms_a_cycle() -> None:
    for relation in RELATIONS:
        model = RECORD_MODELS[relation.source]
        assert hasattr(model, relation.field), relation
        assert relation.target in RECORD_MODELS, relation
    # a type reached from itself would let a record wait for itself
    for start in RECORD_MODELS:
        seen: set[str] = set()
        frontier = [r.target for r in relations_of(start)]
        while frontier:
            current = frontier.pop()
            assert current != start, f"{start} reaches itself"
            if current not in seen:
                seen.add(current)
                frontier += [r.target for r in relations_of(current)]
    assert {r.source for r in children_of("contacts")} >= {"deals", "leads", "notes"}


def test_a_crm_id_in_an_incoming_deal_becomes_the_crmsync_contact(
    tenant: Tenant, db: Session
) -> None:
    pd = _both(db, tenant)
    person = apply_remote(db, pd, "contacts", _person("17", "lin@example.com"), PIPEDRIVE, NOW)
    deal = apply_remote(db, pd, "deals", _deal("900", 17), PIPEDRIVE, NOW)
    db.commit()
    assert deal.outcome == "created"
    stored = db.get(Deal, deal.record_id)
    assert stored is not None and stored.contact_id == person.record_id
    assert db.scalars(select(PendingReference)).all() == []


def test_a_reference_to_a_record_not_arrived_yet_waits_and_is_filled_when_it_does(
    tenant: Tenant, db: Session
) -> None:
    pd = _both(db, tenant)
    deal = apply_remote(db, pd, "deals", _deal("900", 17), PIPEDRIVE, NOW)
    db.commit()
    stored = db.get(Deal, deal.record_id)
    assert stored is not None and stored.contact_id is None  # never a CRM id in our field
    pending = db.scalars(select(PendingReference)).all()
    assert [(p.record_id, p.field, p.target_type, p.remote_id) for p in pending] == [
        (deal.record_id, "contact_id", "contacts", "17")
    ]
    person = apply_remote(db, pd, "contacts", _person("17", "lin@example.com"), PIPEDRIVE, NOW)
    db.commit()
    db.refresh(stored)
    assert stored.contact_id == person.record_id
    assert db.scalars(select(PendingReference)).all() == []
    # the filled reference came from the CRM: it is not pushed back there
    back = db.scalars(
        select(SyncJob).where(SyncJob.record_id == stored.id, SyncJob.integration_id == pd.id)
    ).all()
    assert back == []


def test_a_deal_moved_to_another_person_in_the_crm_follows(tenant: Tenant, db: Session) -> None:
    pd = _both(db, tenant)
    first = apply_remote(db, pd, "contacts", _person("17", "a@example.com"), PIPEDRIVE, NOW)
    second = apply_remote(db, pd, "contacts", _person("18", "b@example.com"), PIPEDRIVE, NOW)
    deal = apply_remote(db, pd, "deals", _deal("900", 17), PIPEDRIVE, NOW)
    db.commit()
    later = RemoteRecord(
        "900", {"title": "Elm St", "person_id": 18}, modified_at=NOW.replace(hour=13)
    )
    assert apply_remote(db, pd, "deals", later, PIPEDRIVE, later.modified_at or NOW).outcome == (
        "updated"
    )
    db.commit()
    stored = db.get(Deal, deal.record_id)
    assert stored is not None and stored.contact_id == second.record_id != first.record_id


def _records(db: Session, tenant: Tenant, **deal: Any) -> tuple[uuid.UUID, dict[Any, Any]]:
    made = service.create_record(db, tenant.id, "deals", {"name": "Elm St", **deal}, "api")
    db.flush()
    return made.id, {made.id: {"id": made.id, "contact_id": deal.get("contact_id")}}


def _link(db: Session, tenant: Tenant, pd: Integration, object_type: str, record: Any) -> None:
    db.add(
        Link(
            workspace_id=tenant.id,
            integration_id=pd.id,
            object_type=object_type,
            record_id=record,
            remote_id="17",
        )
    )
    db.flush()


def test_outbound_a_linked_parent_goes_as_its_crm_id(tenant: Tenant, db: Session) -> None:
    pd = _both(db, tenant)
    contact = service.create_record(db, tenant.id, "contacts", {"last_name": "Lin"}, "api")
    _link(db, tenant, pd, "contacts", contact.id)
    deal_id, rows = _records(db, tenant, contact_id=str(contact.id))
    plan = references.plan_outbound(db, pd.id, "deals", rows, lambda _t: True, NOW)
    assert rows[deal_id]["contact_id"] == "17" and not plan.waiting and not plan.pull


def test_outbound_an_unlinked_parent_is_pulled_forward_and_the_child_waits(
    tenant: Tenant, db: Session
) -> None:
    # the contact predates the integration: no push of it is queued
    contact = service.create_record(db, tenant.id, "contacts", {"last_name": "Lin"}, "api")
    pd = _both(db, tenant)
    deal_id, rows = _records(db, tenant, contact_id=str(contact.id))
    plan = references.plan_outbound(db, pd.id, "deals", rows, lambda _t: True, NOW)
    assert rows[deal_id]["contact_id"] is None
    assert set(plan.waiting) == {deal_id} and plan.pull == {"contacts": {contact.id}}
    references.pull_forward(db, tenant.id, pd.id, plan)
    queued = db.scalars(select(SyncJob).where(SyncJob.record_id == contact.id)).all()
    assert [(j.object_type, j.status, j.priority) for j in queued] == [("contacts", "pending", 0)]
    # with the parent's push queued, the child waits without pulling it twice
    _deal_id, again = _records(db, tenant, contact_id=str(contact.id))
    assert references.plan_outbound(db, pd.id, "deals", again, lambda _t: True, NOW).pull == {}


def test_outbound_a_deleted_failed_or_unpushed_parent_is_left_out_without_waiting(
    tenant: Tenant, db: Session
) -> None:
    deleted = service.create_record(db, tenant.id, "contacts", {"last_name": "Gone"}, "api")
    failed = service.create_record(db, tenant.id, "contacts", {"last_name": "Bad"}, "api")
    pd = _both(db, tenant)
    gone_deal, gone_rows = _records(db, tenant, contact_id=str(deleted.id))
    service.delete_record(db, tenant.id, "contacts", deleted.id, "api")
    db.add(
        SyncJob(
            workspace_id=tenant.id,
            integration_id=pd.id,
            object_type="contacts",
            record_id=failed.id,
            operation="upsert",
            status="dead",
        )
    )
    db.flush()
    unlinked = service.create_record(db, tenant.id, "contacts", {"last_name": "Was"}, "api")
    db.add(  # pushed once, unlinked since (deleted in the CRM): never recreated for a child
        SyncJob(
            workspace_id=tenant.id,
            integration_id=pd.id,
            object_type="contacts",
            record_id=unlinked.id,
            operation="upsert",
            status="succeeded",
        )
    )
    db.execute(
        SyncJob.__table__.delete().where(
            SyncJob.record_id == unlinked.id, SyncJob.status == "pending"
        )
    )
    db.flush()
    was_deal, was_rows = _records(db, tenant, contact_id=str(unlinked.id))
    cases = [(gone_deal, gone_rows, True), (was_deal, was_rows, True)]
    for pushes in (True, False):
        deal_id, rows = _records(db, tenant, contact_id=str(failed.id))
        cases.append((deal_id, rows, pushes))
    for deal_id, rows, pushes in cases:
        plan = references.plan_outbound(db, pd.id, "deals", rows, lambda _t, p=pushes: p, NOW)
        assert rows[deal_id]["contact_id"] is None
        assert not plan.waiting and not plan.pull


def test_a_parent_linked_late_queues_the_children_the_crm_already_holds(
    tenant: Tenant, db: Session
) -> None:
    pd = _both(db, tenant)
    contact = service.create_record(db, tenant.id, "contacts", {"last_name": "Lin"}, "api")
    deal_id, _rows = _records(db, tenant, contact_id=str(contact.id))
    _link(db, tenant, pd, "deals", deal_id)
    db.execute(SyncJob.__table__.delete())
    references.requeue_dependents(db, tenant.id, pd.id, "contacts", [contact.id], lambda _t: True)
    queued = db.scalars(select(SyncJob)).all()
    assert [(j.object_type, j.record_id) for j in queued] == [("deals", deal_id)]
