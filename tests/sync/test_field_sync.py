"""Field-level pushes, deletes that stay deleted, and requests a busy stream must keep."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.connectors.base import RemoteRecord
from crmsync.connectors.http.retry import RetryPolicy
from crmsync.mapping.defaults import default_mapping
from crmsync.records import service
from crmsync.store.models import (
    Conflict,
    FieldState,
    Integration,
    Link,
    SyncRun,
    SyncRunStatus,
    WebhookEvent,
)
from crmsync.sync import manual
from crmsync.sync.inbound import apply_remote
from crmsync.sync.locks import poll_lock
from crmsync.sync.push_target import Target
from crmsync.sync.worker import Worker
from tests.sync.test_worker import ScriptedCRM, _drain, world

__all__ = ["world"]


def _contact(sessions: sessionmaker[Session], ws: uuid.UUID, **fields: str) -> uuid.UUID:
    with sessions() as db:
        contact = service.create_record(db, ws, "contacts", fields, "api")
        db.commit()
        return contact.id


def _update(sessions: sessionmaker[Session], ws: uuid.UUID, rid: uuid.UUID, **fields: str) -> None:
    with sessions() as db:
        service.update_record(db, ws, "contacts", rid, fields, "api")
        db.commit()


def test_a_push_sends_only_what_changed_and_keeps_the_crms_other_edits(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, _i) = world
    rid = _contact(sessions, ws, email="f@x.com", first_name="Ana", last_name="Lima")
    _drain(worker)
    remote = next(iter(crm.records))
    crm.records[remote]["lastname"] = "Lopes"  # a CRM user's edit crmsync has not read
    _update(sessions, ws, rid, first_name="Anna")
    _drain(worker)
    assert crm.calls[-1] == [{"firstname": "Anna", "id": remote}]
    assert crm.records[remote]["lastname"] == "Lopes"
    calls = len(crm.calls)
    _update(sessions, ws, rid, first_name="Ana")
    _update(sessions, ws, rid, first_name="Anna")  # back to what the CRM holds
    _drain(worker)
    assert len(crm.calls) == calls  # nothing to send: skipped
    with sessions() as db:
        known = dict(
            db.execute(
                select(FieldState.property, FieldState.value).where(FieldState.record_id == rid)
            ).all()
        )
    assert known["firstname"] == "Anna" and known["lastname"] == "Lima"


def test_a_field_with_an_open_conflict_is_not_pushed(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, integration_id) = world
    rid = _contact(sessions, ws, email="c@x.com", first_name="Ana", city="Oslo")
    _drain(worker)
    with sessions() as db:
        db.add(
            Conflict(
                workspace_id=ws,
                integration_id=integration_id,
                record_type="contacts",
                record_id=rid,
                field="first_name",
            )
        )
        db.commit()
    _update(sessions, ws, rid, first_name="Anita", city="Rome")
    _drain(worker)
    assert crm.calls[-1] == [{"city": "Rome", "id": next(iter(crm.records))}]


def test_a_remote_deleted_meanwhile_is_not_created_again(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, _worker, (ws, _i) = world
    worker = Worker(sessions, _propagating(crm), concurrency=1)
    rid = _contact(sessions, ws, email="g@x.com", first_name="Ana")
    _drain(worker)
    crm.records.clear()  # deleted in the CRM; the poll has not read the deletion yet
    _update(sessions, ws, rid, first_name="Anna")
    _drain(worker)
    assert crm.records == {}  # the delete wins: no new remote record
    with sessions() as db:
        assert db.scalars(select(Link.record_id)).all() == [rid]


def _propagating(crm: ScriptedCRM) -> Callable[[Session, Integration], Target]:
    def resolve(_session: Session, integration: Integration) -> Target:
        return Target(
            integration.id,
            integration.workspace_id,
            crm,
            default_mapping("hubspot"),
            RetryPolicy(attempts=3, base=1, cap=4, jitter=0),
            delete_propagation=True,
        )

    return resolve


def test_not_found_without_propagation_still_recreates(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, _i) = world
    rid = _contact(sessions, ws, email="h@x.com", first_name="Ana")
    _drain(worker)
    crm.records.clear()
    _update(sessions, ws, rid, first_name="Anna")
    _drain(worker)
    # the whole record goes again (nothing is known of the new copy)
    assert len(crm.records) == 1 and crm.calls[-1][0]["email"] == "h@x.com"


def test_a_requested_poll_waits_while_another_worker_polls(world) -> None:  # type: ignore[no-untyped-def]
    sessions, _crm, worker, (_ws, integration_id) = world
    with sessions() as db:
        integration = db.get(Integration, integration_id)
        assert integration is not None
        manual.request_sync(db, integration, full=True)
        db.commit()
        engine = db.get_bind().engine
    with poll_lock(engine, integration_id, "contacts") as held:
        assert held
        worker.run_inbound_once()
    with sessions() as db:  # kept, not dropped
        assert (
            db.scalar(select(SyncRun.kind).where(SyncRun.status == SyncRunStatus.QUEUED)) == "full"
        )
    worker.run_inbound_once()
    with sessions() as db:
        assert db.scalar(select(SyncRun.id).where(SyncRun.status == SyncRunStatus.QUEUED)) is None
        kinds = db.scalars(select(SyncRun.kind).where(SyncRun.direction == "inbound")).all()
    assert list(kinds) == ["full"]


def test_webhook_events_of_a_busy_stream_go_back_unclaimed(world) -> None:  # type: ignore[no-untyped-def]
    sessions, _crm, worker, (ws, integration_id) = world
    with sessions() as db:
        db.add(
            WebhookEvent(
                workspace_id=ws,
                integration_id=integration_id,
                provider="hubspot",
                event_id="e1",
                received_at=datetime.now(UTC),
                verified=True,
                payload={"object_type": "contacts", "remote_id": "1"},
            )
        )
        db.commit()
        engine = db.get_bind().engine
    with poll_lock(engine, integration_id, "contacts"):
        worker.run_inbound_once()
    with sessions() as db:
        event = db.scalars(select(WebhookEvent)).one()
        assert (event.processed_at, event.outcome) == (None, None)
    worker.run_inbound_once()
    with sessions() as db:
        event = db.scalars(select(WebhookEvent)).one()
        assert event.processed_at is not None and (event.outcome or "").startswith("polled")


class ReadingCRM(ScriptedCRM):
    """A CRM that reads records by id (``ReadConnector``), as HubSpot and Pipedrive do."""

    def read(self, object_type: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        return [
            RemoteRecord(
                i, {k: v for k, v in self.records[i].items() if k != "id"}, datetime.now(UTC)
            )
            for i in remote_ids
            if i in self.records
        ]


def test_an_unread_crm_edit_is_merged_before_the_push(world) -> None:  # type: ignore[no-untyped-def]
    sessions, _crm, _worker, (ws, _i) = world
    crm = ReadingCRM()

    def resolve(_session: Session, integration: Integration) -> Target:
        return Target(
            integration.id,
            integration.workspace_id,
            crm,
            default_mapping("hubspot"),
            RetryPolicy(attempts=3, base=1, cap=4, jitter=0),
            pulled=frozenset({"contacts"}),
        )

    worker = Worker(sessions, resolve, concurrency=1)
    rid = _contact(sessions, ws, email="m@x.com", first_name="Ana", last_name="Lima")
    _drain(worker)
    remote = next(iter(crm.records))
    crm.records[remote]["firstname"] = "Ann"  # a CRM user, after the app's edit below
    _update(sessions, ws, rid, last_name="Lopes")
    crm.records[remote]["firstname"] = "Anne"
    _drain(worker)
    assert crm.records[remote]["firstname"] == "Anne"  # not overwritten
    assert crm.records[remote]["lastname"] == "Lopes"  # the app's edit still went out
    with sessions() as db:
        contact = service.get_record(db, ws, "contacts", rid)
        assert (contact.first_name, contact.last_name) == ("Anne", "Lopes")


def test_a_push_equal_to_the_last_one_still_goes_when_the_crm_changed_since(world) -> None:  # type: ignore[no-untyped-def]
    sessions, crm, worker, (ws, integration_id) = world
    rid = _contact(sessions, ws, email="q@x.com", first_name="Ana")
    _drain(worker)
    remote = next(iter(crm.records))
    # a CRM user changes Ana to Bo; crmsync reads it in
    crm.records[remote]["firstname"] = "Bo"
    with sessions() as db:
        integration = db.get(Integration, integration_id)
        assert integration is not None
        read = RemoteRecord(remote, {"email": "q@x.com", "firstname": "Bo"}, datetime.now(UTC))
        apply_remote(
            db, integration, "contacts", read, default_mapping("hubspot"), datetime.now(UTC)
        )
        db.commit()
    assert _first_name(sessions, ws, rid) == "Bo"
    # then the app writes Ana again: the very payload last pushed (same hash), yet the
    # CRM holds Bo now, so it goes out
    _update(sessions, ws, rid, first_name="Ana")
    _drain(worker)
    assert crm.records[remote]["firstname"] == "Ana"
    assert crm.calls[-1] == [{"firstname": "Ana", "id": remote}]


def _first_name(sessions: sessionmaker[Session], ws: uuid.UUID, rid: uuid.UUID) -> str:
    with sessions() as db:
        return str(service.get_record(db, ws, "contacts", rid).first_name)
