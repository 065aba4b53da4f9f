"""The outbound-event outbox: what the hooks write, and publishing it to a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.bus.envelope import parse
from crmsync.bus.publisher import OutboxPublisher, destination
from crmsync.records import service
from crmsync.store.engine import make_engine, make_sessionmaker
from crmsync.store.migrate import upgrade
from crmsync.store.models import Integration, OutboundEvent
from crmsync.sync import jobs, outbox
from crmsync.sync.settle import Settlement
from crmsync.workspaces import create_workspace
from tests.bus import brokers


def _events(db: Session, ws: uuid.UUID) -> list[OutboundEvent]:
    return list(
        db.scalars(
            select(OutboundEvent).where(OutboundEvent.workspace_id == ws).order_by(OutboundEvent.id)
        )
    )


def _changes(sessions: sessionmaker[Session]) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    crm = uuid.uuid4()
    with sessions() as db:
        ws = create_workspace(db, "outbound").id
        deal = service.create_record(db, ws, "deals", {"name": "D", "stage": "new"}, "api")
        service.update_record(db, ws, "deals", deal.id, {"stage": "won"}, "api")
        service.update_record(db, ws, "deals", deal.id, {"amount": "10"}, "api")  # no event
        contact = service.create_record(db, ws, "contacts", {"email": "a@x.io"}, f"crm:{crm}")
        db.commit()
    return ws, deal.id, contact.id


def test_hooks_write_crm_changes_and_stage_moves(sessions: sessionmaker[Session]) -> None:
    ws, deal_id, contact_id = _changes(sessions)
    with sessions() as db:
        events = _events(db, ws)
    got = [(e.type, e.key, e.payload.get("from"), e.payload.get("to")) for e in events]
    assert got == [
        ("deal.stage_changed", str(deal_id), None, "new"),
        ("deal.stage_changed", str(deal_id), "new", "won"),
        ("deal.won", str(deal_id), "new", "won"),
        ("record.changed_from_crm", str(contact_id), None, None),
    ]
    assert events[3].payload["changes"]["email"] == "a@x.io"
    assert all(e.published_at is None for e in events)


@pytest.mark.parametrize("kind", ["redis", "rabbit", "nats"])
def test_published_in_order_once_and_readable_by_crmsync(tmp_path: Path, kind: str) -> None:
    """(A database of its own: the publisher sends every workspace's events, and the
    shared test database has other tests' to leave off the machine's brokers.)"""
    url = brokers.require(kind)
    sessions = _own_sessions(tmp_path)
    ws, _deal_id, _ = _changes(sessions)
    to = destination(ws)

    async def publish_all() -> None:
        publisher = OutboxPublisher(url, sessions, batch_size=2)
        await publisher.connect()
        while await publisher.publish_pending():
            pass
        await publisher.close()

    try:
        asyncio.run(publish_all())
        asyncio.run(publish_all())  # nothing is sent twice
        bodies = [orjson.loads(b) for b in asyncio.run(brokers.published(kind, to))]
        assert [b["type"] for b in bodies] == [
            "deal.stage_changed",
            "deal.stage_changed",
            "deal.won",
            "record.changed_from_crm",
        ]
        assert [b["data"].get("to") for b in bodies[:2]] == ["new", "won"]
        assert all(parse(orjson.dumps(b)).workspace_id == ws for b in bodies)
        with sessions() as db:
            assert all(e.published_at is not None for e in _events(db, ws))
    finally:
        asyncio.run(brokers.forget(kind, to))


def _own_sessions(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'own.db'}"
    upgrade(url)
    return make_sessionmaker(make_engine(url))


def test_a_job_that_fails_or_dies_emits_sync_failed(tmp_path: Path) -> None:
    sessions = _own_sessions(tmp_path)
    with sessions() as db:
        ws = create_workspace(db, "s").id
        integration = Integration(
            workspace_id=ws,
            provider="hubspot",
            name="hs",
            config={"objects": {"contacts": "outbound"}},
        )
        db.add(integration)
        db.commit()
        records = sorted(uuid.uuid4() for _ in range(3))
        outbox.enqueue(db, ws, "contacts", records)
        db.commit()
        claim = jobs.claim(db, "w", batch_limit=lambda _i, _o: 10)
    assert claim is not None
    by_record = {job.record_id: job for job in claim.jobs}
    settlement = Settlement("w", integration.id, ws, "contacts")
    settlement.succeed(by_record[records[0]])
    settlement.finish(by_record[records[1]], "failed", error="bad email", error_class="Invalid")
    settlement.finish(by_record[records[2]], "dead", error="503", error_class="Transient")
    with sessions() as db:
        settlement.write(db)
        events = _events(db, ws)
    assert [(e.type, e.key, e.payload["status"]) for e in events] == [
        ("sync.failed", str(records[1]), "failed"),
        ("sync.failed", str(records[2]), "dead"),
    ]
    assert events[0].payload["error_class"] == "Invalid"
    assert events[0].created_at <= datetime.now(UTC)
