"""The per-property decision on a CRM read, and what applying it does to the store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.connectors.base import RemoteRecord
from crmsync.integrations.config import ConflictPolicy
from crmsync.mapping.defaults import default_mapping
from crmsync.mapping.schema import FieldType
from crmsync.records import service
from crmsync.store.models import ChangeLog, Conflict, Contact, Integration, Link, SyncJob
from crmsync.sync import fieldstate
from crmsync.sync.conflicts import Resolution, resolve
from crmsync.sync.fieldstate import Known
from crmsync.sync.inbound import apply_remote
from crmsync.sync.reconcile import Action, Sides, decide
from tests.conftest import Tenant

T0 = datetime(2026, 1, 1, tzinfo=UTC)
S = timedelta(seconds=1)
LWW, CRM, APP, MANUAL = (
    ConflictPolicy.LAST_WRITE_WINS,
    ConflictPolicy.CRM_WINS,
    ConflictPolicy.APP_WINS,
    ConflictPolicy.MANUAL,
)


def _sides(incoming: Any, local: Any, known: Any, crm_at: int, local_at: int, **kw: Any) -> Sides:
    return Sides(
        incoming=incoming,
        local=local,
        known=None if known is None else Known(known, None, T0),
        crm_at=T0 + crm_at * S,
        local_at=T0 + local_at * S,
        read_at=T0 + kw.pop("read", 10) * S,
        **kw,
    )


@pytest.mark.parametrize(
    ("policy", "sides", "action"),
    [
        # crmsync's own pushed value seen again: never a change, whatever the policy
        (LWW, _sides("Ana", "Anna", "Ana", 9, 1), Action.PUSH),
        (MANUAL, _sides("Ana", "Anna", "Ana", 9, 1), Action.PUSH),
        # the same phone in another format is the same value
        (
            LWW,
            _sides("+1 (415) 555-0100", "+14155550100", None, 9, 1, kind=FieldType.PHONE),
            Action.SAME,
        ),
        # only the CRM changed: its value comes in, whatever the times say
        (LWW, _sides("Bo", "Ana", "Ana", 1, 9), Action.TAKE),
        (MANUAL, _sides("Bo", "Ana", "Ana", 1, 9), Action.TAKE),
        # both changed: the later write, a conflict, or the policy's side
        (LWW, _sides("Bo", "Cy", "Ana", 5, 4), Action.TAKE),
        (LWW, _sides("Bo", "Cy", "Ana", 4, 5), Action.PUSH),
        (MANUAL, _sides("Bo", "Cy", "Ana", 5, 4), Action.CONFLICT),
        (CRM, _sides("Bo", "Cy", "Ana", 1, 9), Action.TAKE),
        (APP, _sides("Bo", "Cy", "Ana", 9, 1), Action.PUSH),
        (APP, _sides("Bo", None, "Ana", 9, 1), Action.TAKE),
        # an earlier value of the app's own, landed late (its push unacknowledged): no
        # CRM write, even though the CRM's clock dates it after the app's newest write
        (LWW, _sides("Old", "New", "Base", 9, 5, echo_at=T0 + 2 * S), Action.PUSH),
        (LWW, _sides("Old", "New", "Base", 9, 5), Action.TAKE),
        # a read begun before crmsync learnt the known value decides nothing
        (LWW, _sides("Old", "New", "New", 9, 1, read=-1), Action.STALE),
        # nothing known: the app counts as changed only after the last sync
        (MANUAL, _sides("Bo", "Cy", None, 5, 4, last_sync=T0 + 6 * S), Action.TAKE),
        (MANUAL, _sides("Bo", "Cy", None, 5, 4, last_sync=T0 + 3 * S), Action.CONFLICT),
    ],
)
def test_decide(policy: ConflictPolicy, sides: Sides, action: Action) -> None:
    assert decide(policy, sides) == action


HUBSPOT = default_mapping("hubspot")


def _linked(db: Session, tenant: Tenant, policy: str, **extra: Any) -> tuple[Integration, Contact]:
    """A contact pushed to a HubSpot integration: the CRM is known to hold its values."""
    contact = service.create_record(
        db,
        tenant.id,
        "contacts",
        {"email": "k@x.com", "first_name": "Kai", "city": "Oslo", "phone": "415-555-0100"},
        "api",
    )
    return _link(db, tenant, contact, policy, **extra), contact


def _link(db: Session, tenant: Tenant, contact: Contact, policy: str, **extra: Any) -> Integration:
    """A new HubSpot integration the contact was pushed to (as remote record ``r1``)."""
    integration = Integration(
        workspace_id=tenant.id,
        provider="hubspot",
        name=policy,
        config={"objects": {"contacts": "both"}, "conflict_policy": policy, **extra},
    )
    db.add(integration)
    db.flush()
    pushed = datetime.now(UTC)
    db.add(
        Link(
            workspace_id=tenant.id,
            integration_id=integration.id,
            object_type="contacts",
            record_id=contact.id,
            remote_id="r1",
            last_pushed_hash="x",
            last_synced_at=pushed,
        )
    )
    sent = {"email": "k@x.com", "firstname": "Kai", "city": "Oslo", "phone": "+14155550100"}
    fieldstate.store(db, fieldstate.rows(integration.id, "contacts", contact.id, sent, pushed))
    db.execute(SyncJob.__table__.delete().where(SyncJob.record_id == contact.id))
    db.commit()
    return integration


def _read(
    db: Session,
    integration: Integration,
    at: datetime,
    times: dict[str, datetime] | None = None,
    **props: Any,
) -> str:
    base = {"email": "k@x.com", "firstname": "Kai", "city": "Oslo", "phone": "+14155550100"}
    remote = RemoteRecord("r1", {**base, **props}, modified_at=at, field_times=times)
    applied = apply_remote(db, integration, "contacts", remote, HUBSPOT, datetime.now(UTC))
    db.commit()
    return applied.outcome


def _changes(db: Session, contact: Contact) -> int:
    return (
        db.scalar(
            select(func.count()).select_from(ChangeLog).where(ChangeLog.record_id == contact.id)
        )
        or 0
    )


def test_an_echo_in_e164_is_no_change(tenant: Tenant, db: Session) -> None:
    integration, contact = _linked(db, tenant, "manual")
    before = _changes(db, contact)
    assert _read(db, integration, datetime.now(UTC), phone="+1 415-555-0100") == "unchanged"
    assert _changes(db, contact) == before
    assert db.scalar(select(func.count()).where(Conflict.integration_id == integration.id)) == 0


def test_last_write_wins_uses_each_propertys_own_time(tenant: Tenant, db: Session) -> None:
    integration, contact = _linked(db, tenant, "last_write_wins")
    service.update_record(db, tenant.id, "contacts", contact.id, {"city": "Rome"}, "api")
    db.execute(SyncJob.__table__.delete().where(SyncJob.record_id == contact.id))
    db.commit()
    app_at = datetime.now(UTC)
    # the record was modified after the app's write, but the city before it
    times = {"city": app_at - S, "firstname": app_at + S}
    _read(db, integration, app_at + S, times, city="Bergen", firstname="Kim")
    db.refresh(contact)
    assert (contact.city, contact.first_name) == ("Rome", "Kim")
    # the app keeps a value the CRM does not hold: a push to that CRM is queued
    jobs = db.scalars(select(SyncJob.integration_id).where(SyncJob.record_id == contact.id)).all()
    assert list(jobs) == [integration.id]
    stamped = db.scalar(
        select(ChangeLog.at).where(
            ChangeLog.record_id == contact.id, ChangeLog.field == "first_name"
        )
    )
    assert stamped == app_at + S  # the CRM's time, not the time crmsync applied it


def test_a_deleted_record_is_never_brought_back(tenant: Tenant, db: Session) -> None:
    integration, contact = _linked(db, tenant, "last_write_wins", delete_propagation=True)
    service.delete_record(db, tenant.id, "contacts", contact.id, "api")
    db.commit()
    later = datetime.now(UTC) + S
    assert _read(db, integration, later, firstname="Late edit") == "unchanged"
    assert db.scalar(select(func.count()).where(Contact.workspace_id == tenant.id)) == 1
    db.refresh(contact)
    assert contact.deleted_at is not None


def test_manual_conflict_holds_and_resolves_once(tenant: Tenant, db: Session) -> None:
    integration, contact = _linked(db, tenant, "manual")
    service.update_record(db, tenant.id, "contacts", contact.id, {"city": "Rome"}, "api")
    db.commit()
    _read(db, integration, datetime.now(UTC), city="Bergen", firstname="Kim")
    db.refresh(contact)
    assert (contact.city, contact.first_name) == ("Rome", "Kim")
    conflict = db.scalars(select(Conflict).where(Conflict.integration_id == integration.id)).one()
    resolve(db, tenant.id, conflict.id, Resolution.LOCAL)
    db.commit()
    # the CRM still shows its value (the push has not run): no new conflict
    _read(db, integration, datetime.now(UTC), city="Bergen", firstname="Kim")
    assert db.scalar(select(func.count()).where(Conflict.integration_id == integration.id)) == 1


def test_a_conflict_on_a_deleted_record_resolves(tenant: Tenant, db: Session) -> None:
    integration, contact = _linked(db, tenant, "manual")
    service.update_record(db, tenant.id, "contacts", contact.id, {"city": "Rome"}, "api")
    db.commit()
    _read(db, integration, datetime.now(UTC), city="Bergen")
    conflict = db.scalars(select(Conflict).where(Conflict.integration_id == integration.id)).one()
    service.delete_record(db, tenant.id, "contacts", contact.id, "api")
    db.commit()
    assert resolve(db, tenant.id, conflict.id, Resolution.REMOTE).status == "resolved"


def test_manual_opens_no_conflict_when_only_one_side_changed(tenant: Tenant, db: Session) -> None:
    integration, contact = _linked(db, tenant, "manual")
    _read(db, integration, datetime.now(UTC), city="Bergen")
    db.refresh(contact)
    assert contact.city == "Bergen"
    assert db.scalar(select(func.count()).where(Conflict.integration_id == integration.id)) == 0


def test_an_earlier_app_value_landing_late_is_an_echo(tenant: Tenant, db: Session) -> None:
    integration, contact = _linked(db, tenant, "last_write_wins")
    service.update_record(db, tenant.id, "contacts", contact.id, {"first_name": "Kim"}, "api")
    acked = datetime.now(UTC)  # Kim was pushed too
    fieldstate.store(
        db, fieldstate.rows(integration.id, "contacts", contact.id, {"firstname": "Kim"}, acked)
    )
    db.execute(SyncJob.__table__.delete().where(SyncJob.record_id == contact.id))
    db.commit()
    # the CRM shows Kai, which crmsync pushed before: its push landing late, not a user
    _read(db, integration, datetime.now(UTC) + S, firstname="Kai")
    db.refresh(contact)
    assert contact.first_name == "Kim"
    # and Kim goes out again, though it was pushed before (the CRM lost it since)
    jobs = db.scalars(select(SyncJob.integration_id).where(SyncJob.record_id == contact.id)).all()
    assert list(jobs) == [integration.id]


def test_a_crm_edit_to_a_value_the_app_held_before_this_crm_is_taken(
    tenant: Tenant, db: Session
) -> None:
    contact = service.create_record(
        db, tenant.id, "contacts", {"email": "k@x.com", "first_name": "Kai"}, "api"
    )
    # the app held "Changed" once (from another CRM), then went back to Kai, all before
    # this integration existed: crmsync never pushed "Changed" to it
    gone = f"crm:{uuid.uuid4()}"
    service.update_record(db, tenant.id, "contacts", contact.id, {"first_name": "Changed"}, gone)
    service.update_record(db, tenant.id, "contacts", contact.id, {"first_name": "Kai"}, "api")
    db.commit()
    integration = _link(db, tenant, contact, "last_write_wins")
    assert _read(db, integration, datetime.now(UTC) + S, firstname="Changed") == "updated"
    db.refresh(contact)
    assert contact.first_name == "Changed"


def test_a_crm_edit_back_to_a_value_read_from_it_is_taken(tenant: Tenant, db: Session) -> None:
    integration, contact = _linked(db, tenant, "last_write_wins")
    _read(db, integration, datetime.now(UTC) - S, firstname="Changed")  # CRM's time
    service.update_record(db, tenant.id, "contacts", contact.id, {"first_name": "Kai"}, "api")
    acked = datetime.now(UTC)  # pushed back to Kai
    fieldstate.store(
        db, fieldstate.rows(integration.id, "contacts", contact.id, {"firstname": "Kai"}, acked)
    )
    db.execute(SyncJob.__table__.delete().where(SyncJob.record_id == contact.id))
    db.commit()
    # then a CRM user types "Changed" again: a value that came from this CRM was never
    # pushed to it, so it is no echo of crmsync's
    _read(db, integration, datetime.now(UTC) + S, firstname="Changed")
    db.refresh(contact)
    assert contact.first_name == "Changed"


def test_a_read_decides_on_the_record_as_stored_not_a_cached_copy(
    tenant: Tenant, db: Session
) -> None:
    integration, contact = _linked(db, tenant, "last_write_wins")
    crm_at = datetime.now(UTC)  # a CRM user's write...
    with Session(db.get_bind()) as other:  # ...then the app's, committed elsewhere
        service.update_record(other, tenant.id, "contacts", contact.id, {"city": "Rome"}, "api")
        other.commit()
    assert contact.city == "Oslo"  # this session's copy is out of date
    _read(db, integration, crm_at, city="Bergen")
    db.refresh(contact)
    assert contact.city == "Rome"  # the later write stands
