"""Bus intake: stored once, duplicates dropped, poison dead with a reason, order kept."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus.intake import Workspaces, take_in
from crmsync.events.service import record_event
from crmsync.store.models import Event, Lead
from tests.conftest import Tenant


def _event(ws: uuid.UUID, n: int, key: str = "lead-1", **extra: Any) -> bytes:
    body = {
        "id": f"m-{n}",
        "workspace_id": str(ws),
        "key": key,
        "type": "lead.status_changed",
        "data": {"lead": key, "seq": n},
        **extra,
    }
    return orjson.dumps(body)


def _stored(db: Session, ws: uuid.UUID) -> list[Event]:
    return list(
        db.scalars(select(Event).where(Event.workspace_id == ws).order_by(Event.received_at))
    )


def test_batch_stores_new_ids_once_and_counts_the_rest(db: Session, tenant: Tenant) -> None:
    ws = tenant.id
    batch = [
        _event(ws, 1),
        b"{not json",
        _event(ws, 2),
        _event(ws, 1),  # a redelivery of m-1
        orjson.dumps({"id": "m-9", "workspace_id": str(uuid.uuid4()), "type": "a.b"}),
        orjson.dumps({"id": "m-8", "workspace_id": str(ws)}),  # neither type nor upsert
        _event(ws, 2, data={"other": True}),  # m-2 again, another body
    ]
    result = take_in(db, batch)
    db.commit()
    assert (result.stored, result.duplicates) == (2, 1)
    reasons = {d.index: d.reason for d in result.dead}
    assert set(reasons) == {1, 4, 5, 6}
    assert reasons[1].startswith("not JSON")
    assert reasons[4].startswith("unknown workspace")
    assert "either 'type'" in reasons[5]
    assert "different body" in reasons[6]
    assert [e.idempotency_key for e in _stored(db, ws)] == ["m-1", "m-2"]
    again = take_in(db, batch)
    db.commit()
    assert (again.stored, again.duplicates, len(again.dead)) == (0, 3, 4)


def test_a_message_id_and_an_http_idempotency_key_share_one_store(
    db: Session, tenant: Tenant
) -> None:
    body = {"type": "lead.created", "data": {"x": 1}, "occurred_at": None}
    record_event(db, tenant.id, body, "shared-1")
    db.commit()
    message = {"id": "shared-1", "workspace_id": str(tenant.id), **body}
    result = take_in(db, [orjson.dumps(message)])
    assert (result.stored, result.duplicates, result.dead) == (0, 1, [])


def test_a_source_of_one_workspace_refuses_another(
    db: Session, make_tenant: Callable[[], Tenant]
) -> None:
    mine, other = make_tenant(), make_tenant()
    no_ws = orjson.dumps({"id": "a", "type": "x.y"})
    result = take_in(db, [no_ws, _event(other.id, 1)], workspace_id=mine.id)
    db.commit()
    assert result.stored == 1
    assert "not this source's workspace" in result.dead[0].reason
    assert take_in(db, [no_ws]).dead[0].reason.startswith("no workspace_id")


def test_upserts_write_the_record_and_keep_their_order(db: Session, tenant: Tenant) -> None:
    def upsert(n: int, status: str) -> bytes:
        return orjson.dumps(
            {
                "id": f"u-{n}",
                "workspace_id": str(tenant.id),
                "upsert": {
                    "record_type": "leads",
                    "record": {"external_ref": "L-1", "status": status, "source": "bus"},
                },
            }
        )

    bad = orjson.dumps(
        {
            "id": "u-bad",
            "workspace_id": str(tenant.id),
            "upsert": {"record_type": "leads", "record": {"status": "NO_SUCH"}},
        }
    )
    result = take_in(db, [upsert(1, "NEW"), _event(tenant.id, 7), upsert(2, "CONTACTED"), bad])
    db.commit()
    assert result.stored == 3
    assert result.dead[0].index == 3 and result.dead[0].reason.startswith("record refused")
    lead = db.scalars(select(Lead).where(Lead.workspace_id == tenant.id)).one()
    assert lead.status == "CONTACTED"
    kinds = [e.type for e in _stored(db, tenant.id)]
    assert kinds == ["record.upserted", "lead.status_changed", "record.upserted"]
    assert take_in(db, [upsert(2, "CONTACTED")]).duplicates == 1


@settings(max_examples=15, deadline=None)
@given(
    plan=st.lists(st.tuples(st.integers(0, 40), st.booleans()), min_size=1, max_size=60),
    cuts=st.lists(st.integers(1, 60), max_size=4),
)
def test_outcome_does_not_depend_on_batching_or_redelivery(
    sessions: sessionmaker[Session], plan: list[tuple[int, bool]], cuts: list[int]
) -> None:
    """Whatever the batch boundaries and repeats, each valid id is stored once, in the
    order of its first delivery, and each poison message is dead every time."""
    from crmsync.workspaces import create_workspace

    with sessions() as db:
        ws = create_workspace(db, "prop").id
        db.commit()
        messages = [b"\xff poison" if poison else _event(ws, n) for n, poison in plan]
        bounds = sorted({0, len(messages), *(c for c in cuts if c < len(messages))})
        known = Workspaces()
        dead = 0
        for lo, hi in itertools.pairwise(bounds):
            dead += len(take_in(db, messages[lo:hi], workspaces=known).dead)
            db.commit()
        first_seen = list(dict.fromkeys(f"m-{n}" for n, poison in plan if not poison))
        assert [e.idempotency_key for e in _stored(db, ws)] == first_seen
        assert dead == sum(1 for _, poison in plan if poison)
        count = db.scalar(select(func.count()).select_from(Event).where(Event.workspace_id == ws))
        assert count == len(first_seen)


def test_an_event_posted_over_http_is_a_duplicate_on_the_bus(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    body = {
        "type": "loan.milestone_updated",
        "data": {"m": 1},
        "occurred_at": "2026-12-05T10:00:00Z",
    }
    headers = {**tenant.headers(), "Idempotency-Key": "loan-1-m1"}
    assert client.post("/api/v1/events", json=body, headers=headers).status_code == 202
    same = orjson.dumps({"id": "loan-1-m1", "workspace_id": str(tenant.id), **body})
    other = orjson.dumps(
        {"id": "loan-1-m1", "workspace_id": str(tenant.id), **body, "data": {"m": 2}}
    )
    result = take_in(db, [same, other])
    assert (result.stored, result.duplicates) == (0, 1)
    assert "different body" in result.dead[0].reason


def test_more_upserts_in_a_batch_than_one_batch_upsert_takes(db: Session, tenant: Tenant) -> None:
    from crmsync.records.upsert import MAX_BATCH

    messages = [
        orjson.dumps(
            {
                "id": f"big-{n}",
                "workspace_id": str(tenant.id),
                "upsert": {"record_type": "leads", "record": {"external_ref": f"L{n % 7}"}},
            }
        )
        for n in range(MAX_BATCH + 5)
    ]
    result = take_in(db, messages)
    db.commit()
    assert (result.stored, result.dead) == (MAX_BATCH + 5, [])
    leads = db.scalars(select(Lead.external_ref).where(Lead.workspace_id == tenant.id)).all()
    assert sorted(leads) == [f"L{n}" for n in range(7)]


def test_bus_events_reach_the_event_router_like_http_ones(db: Session, tenant: Tenant) -> None:
    """Subscribers see the new events in order; one that fails leaves its event stored
    and unprocessed, the others processed."""
    from crmsync.events.router import router

    seen: list[str] = []

    def subscriber(session: Session, event: Event) -> None:
        if event.data.get("boom"):
            raise RuntimeError("subscriber failed")
        seen.append(str(event.idempotency_key))

    router.subscribe("bus_test.*", subscriber)
    try:
        batch = [
            _event(tenant.id, 1, type="bus_test.a"),
            _event(tenant.id, 2, type="bus_test.b", data={"boom": True}),
            _event(tenant.id, 3, type="bus_test.a"),
            _event(tenant.id, 1, type="bus_test.a"),  # a repeat: not dispatched again
        ]
        result = take_in(db, batch)
        db.commit()
    finally:
        router.unsubscribe(subscriber)
    assert (result.stored, result.duplicates) == (3, 1)
    # (the batch's savepoint rolled back when m-2 failed, so the last pass is what counts)
    assert seen[-2:] == ["m-1", "m-3"] and "m-2" not in seen
    processed = {e.idempotency_key: e.processed_at for e in _stored(db, tenant.id)}
    assert processed["m-2"] is None
    assert processed["m-1"] is not None and processed["m-3"] is not None


@settings(max_examples=10, deadline=None)
@given(
    plan=st.lists(st.tuples(st.integers(0, 30), st.sampled_from("vwop")), min_size=1, max_size=40),
    cuts=st.lists(st.integers(1, 40), max_size=4),
)
def test_subscribers_act_the_same_whatever_the_batches(
    sessions: sessionmaker[Session], plan: list[tuple[int, str]], cuts: list[int]
) -> None:
    """Events an automation rule takes (v: ``visit.made``), events naming a contact that
    no rule takes (w: an interaction for the timeline), events nobody wants (o) and
    poison (p): whatever the batch boundaries, every rule fires once per event id in
    order, every stored event is processed, and the timeline gets one activity per id."""
    from crmsync.automation.service import create as create_rule
    from crmsync.automation.spec import RuleSpec
    from crmsync.marketing.activities import activity_type_of
    from crmsync.store.models import Activity, AutomationRun, Contact
    from crmsync.workspaces import create_workspace

    with sessions() as db:
        ws = create_workspace(db, "prop-subscribers").id
        contact = Contact(workspace_id=ws, last_name="Visitor")
        db.add(contact)
        db.flush()
        rule = RuleSpec.model_validate(
            {
                "name": "visit-task",
                "trigger": {"event": "visit.*"},
                "actions": [{"create_task": {"subject": "visit {{event.data.n}}"}}],
            }
        )
        create_rule(db, ws, rule)
        db.commit()

        def message(n: int, kind: str) -> bytes:
            if kind == "p":
                return b"\xff poison"
            data: dict[str, Any] = {"n": n}
            if kind in "vw":
                data["contact_id"] = str(contact.id)
            kinds = {"v": "visit.made", "w": "message.received", "o": "other.thing"}
            body = {"id": f"{kind}-{n}", "workspace_id": str(ws), "type": kinds[kind]}
            return orjson.dumps({**body, "data": data})

        messages = [message(n, kind) for n, kind in plan]
        bounds = sorted({0, len(messages), *(c for c in cuts if c < len(messages))})
        known = Workspaces()
        for lo, hi in itertools.pairwise(bounds):
            take_in(db, messages[lo:hi], workspaces=known)
            db.commit()
        visits = list(dict.fromkeys(n for n, kind in plan if kind == "v"))
        tasks = db.scalars(
            select(Activity.subject)
            .where(Activity.workspace_id == ws, Activity.subject.like("visit %"))
            .order_by(Activity.created_at, Activity.id)
        ).all()
        assert tasks == [f"visit {n}" for n in visits]
        runs = db.scalars(select(AutomationRun.status).where(AutomationRun.workspace_id == ws))
        assert list(runs) == ["done"] * len(visits)
        unprocessed = db.scalar(
            select(func.count()).where(Event.workspace_id == ws, Event.processed_at.is_(None))
        )
        assert unprocessed == 0
        interactions = sum(
            len({n for n, k in plan if k == kind})
            for kind, type_ in (("v", "visit.made"), ("w", "message.received"))
            if activity_type_of(type_, {}) is not None
        )
        everything = db.scalar(select(func.count()).where(Activity.workspace_id == ws))
        assert everything == len(visits) + interactions
        assert interactions > 0 or "w" not in {k for _, k in plan}


def test_a_twin_consumer_storing_an_id_meanwhile_makes_it_a_duplicate(
    db: Session, tenant: Tenant, monkeypatch: Any
) -> None:
    """Between the look for stored ids and the batch's write (one COPY on PostgreSQL) a
    twin consumer stores one of them: the write is refused as a whole and the batch is
    stored one by one, that id counted a duplicate (or dead, with another body)."""
    from crmsync.bus import intake

    ws = tenant.id
    take_in(db, [_event(ws, 2), _event(ws, 3)])
    db.commit()
    monkeypatch.setattr(intake, "_stored_ids", lambda session, ids: [])  # looked too early
    result = take_in(
        db, [_event(ws, 1), _event(ws, 2), _event(ws, 3, data={"x": 1}), _event(ws, 4)]
    )
    db.commit()
    assert (result.stored, result.duplicates) == (2, 1)
    assert [(d.index, d.reason) for d in result.dead] == [
        (2, "this id was used with a different body")
    ]
    assert [e.idempotency_key for e in _stored(db, ws)] == ["m-2", "m-3", "m-1", "m-4"]
    assert all(e.processed_at is not None for e in _stored(db, ws))
