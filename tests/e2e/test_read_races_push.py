"""A CRM edit read by a poll that began before one of crmsync's pushes was acknowledged
(the push landed while the poll was reading) is not dropped: with the HubSpot sandbox
over sockets, the poll reads the record again by id, or, with a connector that cannot
read by id, keeps its cursor and queues another poll."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import select

from crmsync.connectors.base import ChangePage, Connector, RemoteRecord
from crmsync.store.models import Integration, SyncCursor, SyncRun, SyncRunStatus
from crmsync.sync.polling import poll
from tests.e2e.test_hubspot_loop import Loop, _drain, _remote_contacts, loop

__all__ = ["loop"]


class _Racing:
    """The real connector, but the first page is read only after ``race`` ran: the poll
    has taken its read time already, so what ``race`` does happened during the read."""

    def __init__(self, real: Connector, race: Callable[[], None]) -> None:
        self.real = real
        self.race: Callable[[], None] | None = race

    def changes(self, object_type: str, cursor: str | None) -> ChangePage:
        if self.race is not None:
            self.race, race = None, self.race
            race()
        return self.real.changes(object_type, cursor)

    def __getattr__(self, name: str) -> Any:
        if name == "read":  # this one cannot read by id
            raise AttributeError(name)
        return getattr(self.real, name)


class _RacingReader(_Racing):
    def read(self, object_type: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        return cast(Any, self.real).read(object_type, remote_ids)


def _setup(loop: Loop) -> tuple[str, str, Callable[[], None]]:
    """A contact pushed to HubSpot; then the app changes its job title. Returns its id,
    its remote id and the race: the push of that change, then a HubSpot user's edit of
    the same property."""
    made = loop.api.post(
        "/api/v1/contacts", json={"email": "race@example.com", "job_title": "Analyst"}
    )
    made.raise_for_status()
    _drain(loop.worker)
    (remote,) = [
        c for c in _remote_contacts(loop) if c["properties"]["email"] == "race@example.com"
    ]
    loop.api.patch(
        f"/api/v1/contacts/{made.json()['id']}", json={"job_title": "Manager"}
    ).raise_for_status()

    def race() -> None:
        _drain(loop.worker)  # acknowledged after the poll's read began
        loop.crm.post(
            "/_sandbox/change",
            json={
                "object_type": "contacts",
                "record_id": remote["id"],
                "fields": {"jobtitle": "Director"},
            },
        ).raise_for_status()

    return made.json()["id"], remote["id"], race


def _poll(loop: Loop, connector: _Racing | Connector) -> None:
    resolve = loop.worker.resolve
    with loop.sessions() as db:
        integration = db.get(Integration, uuid.UUID(loop.integration_id))
        assert integration is not None
        mapping = resolve(db, integration).mapping
        poll(db, integration, "contacts", cast(Connector, connector), mapping)


def _real(loop: Loop) -> Connector:
    with loop.sessions() as db:
        integration = db.get(Integration, uuid.UUID(loop.integration_id))
        assert integration is not None
        return loop.worker.resolve(db, integration).connector


def _job_title(loop: Loop, contact_id: str) -> str:
    answer = loop.api.get(f"/api/v1/contacts/{contact_id}")
    answer.raise_for_status()
    return str(answer.json()["job_title"])


def test_an_edit_read_before_a_push_was_acknowledged_is_read_again(loop: Loop) -> None:
    contact_id, _remote, race = _setup(loop)
    _poll(loop, _RacingReader(_real(loop), race))
    assert _job_title(loop, contact_id) == "Director"


def test_without_reads_by_id_the_poll_keeps_its_cursor_and_comes_back(loop: Loop) -> None:
    contact_id, _remote, race = _setup(loop)
    _poll(loop, _real(loop))  # an earlier poll: the stream has a cursor
    with loop.sessions() as db:
        before = db.scalar(select(SyncCursor.state))
    assert before and before["cursor"]
    _poll(loop, _Racing(_real(loop), race))
    assert _job_title(loop, contact_id) == "Manager"  # undecided yet
    with loop.sessions() as db:
        assert db.scalar(select(SyncCursor.state)) == before  # not moved past the edit
        queued = db.scalars(
            select(SyncRun.kind).where(SyncRun.status == SyncRunStatus.QUEUED)
        ).all()
    assert list(queued) == ["incremental"]
    loop.worker.run_inbound_once()  # the queued poll
    assert _job_title(loop, contact_id) == "Director"
