"""Store a batch of bus messages in the caller's transaction; never commits.

What a batch becomes: every message either stored (an Event row keyed by the message id,
plus the record for an upsert), a duplicate of one stored before (its id is already in
the store, with the same body), or dead (a reason; the consumer moves it to the dead
letters). The caller commits, then dead-letters, then acknowledges the whole batch, so
a crash anywhere redelivers messages whose effect is either committed (then they are
duplicates) or not (then they are stored now).

Events are written with one executemany (one COPY on PostgreSQL); ``received_at`` rises
strictly through a batch, so the store shows the order messages were taken in. An event no
subscriber of the event router wants is written processed; the others are marked once
their subscribers ran.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmsync.bus.envelope import UPSERTED, Envelope, Poison, parse
from crmsync.events.service import (
    IdempotencyConflict,
    dispatch_planned,
    plan_dispatch,
    record_event,
)
from crmsync.fingerprint import fingerprint
from crmsync.records.bulk import insert_copy
from crmsync.records.errors import RecordError
from crmsync.records.upsert import MAX_BATCH, upsert_records
from crmsync.store.base import new_id
from crmsync.store.models import Event, Workspace

_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_TICK = timedelta(microseconds=1)
_COLUMNS = (
    "id",
    "workspace_id",
    "type",
    "data",
    "occurred_at",
    "received_at",
    "idempotency_key",
    "request_hash",
    "processed_at",
)
# Which of a batch's ids are stored already, on PostgreSQL: one probe of the unique
# (workspace_id, idempotency_key) index per id, whatever the planner knows of the table.
# (``workspace_id IN … AND idempotency_key IN …`` was planned, on a table grown faster
# than autoanalyze looks at it, as a scan of the workspace's every event: a batch cost
# more with each event stored.) LIMIT keeps the subquery a per-id lookup.
_SEEN_POSTGRESQL = text(
    """
    SELECT k.workspace_id, k.key, e.request_hash
    FROM unnest(CAST(:workspaces AS uuid[]), CAST(:keys AS varchar[])) AS k(workspace_id, key)
    CROSS JOIN LATERAL (
        SELECT events.request_hash FROM events
        WHERE events.workspace_id = k.workspace_id AND events.idempotency_key = k.key
        LIMIT 1
    ) AS e
    """
)


@dataclass(frozen=True, slots=True)
class Dead:
    index: int  # position in the batch
    reason: str


@dataclass
class Intake:
    """The outcome of one batch."""

    stored: int = 0
    duplicates: int = 0
    dead: list[Dead] = field(default_factory=list)


@dataclass
class Workspaces:
    """Workspace ids seen to exist, so a steady stream asks the database once per id."""

    known: set[uuid.UUID] = field(default_factory=set)

    def existing(self, session: Session, ids: set[uuid.UUID]) -> set[uuid.UUID]:
        missing = ids - self.known
        if missing:
            self.known |= set(
                session.scalars(select(Workspace.id).where(Workspace.id.in_(missing)))
            )
        return ids & self.known


@dataclass(slots=True)
class _Item:
    index: int
    envelope: Envelope
    workspace_id: uuid.UUID
    hash: str


def take_in(
    session: Session,
    messages: Sequence[bytes | str | dict[str, Any]],
    *,
    workspace_id: uuid.UUID | None = None,
    workspaces: Workspaces | None = None,
    source: str = "bus",
) -> Intake:
    """Store ``messages`` (in order). ``workspace_id``: the source's own workspace; a
    message naming another one is dead. Without it each message must name its own."""
    workspaces = workspaces or Workspaces()
    out = Intake()
    parsed: list[_Item] = []
    for index, raw in enumerate(messages):
        try:
            envelope = parse(raw)
        except Poison as exc:
            out.dead.append(Dead(index, exc.reason))
            continue
        ws = envelope.workspace_id or workspace_id
        if ws is None:
            out.dead.append(Dead(index, "no workspace_id, and the source has no workspace"))
            continue
        if workspace_id is not None and ws != workspace_id:
            out.dead.append(Dead(index, f"workspace {ws} is not this source's workspace"))
            continue
        parsed.append(_Item(index, envelope, ws, fingerprint(envelope.body)))
    known = workspaces.existing(session, {item.workspace_id for item in parsed})
    fresh: list[_Item] = []
    for item in parsed:
        if item.workspace_id not in known:
            out.dead.append(Dead(item.index, f"unknown workspace {item.workspace_id}"))
        else:
            fresh.append(item)
    fresh = _drop_seen(session, fresh, out)
    try:
        with session.begin_nested():
            _store(session, fresh, out, source)
    except IntegrityError:
        # A twin consumer stored one of these ids since we looked: go one by one, as
        # the HTTP endpoint does, and let the store say which are duplicates.
        _store_one_by_one(session, fresh, out, source)
    out.dead.sort(key=lambda d: d.index)
    return out


def _drop_seen(session: Session, items: list[_Item], out: Intake) -> list[_Item]:
    """Items whose id is new, in order: a repeat (in the batch or the store) with the same
    body is a duplicate, with another body it is dead (an id names one message)."""
    if not items:
        return []
    hashes: dict[tuple[uuid.UUID, str | None], str | None] = {}
    for ws, key, digest in _stored_ids(session, {(i.workspace_id, i.envelope.id) for i in items}):
        hashes[(ws, key)] = digest
    fresh: list[_Item] = []
    for item in items:
        seen = (item.workspace_id, item.envelope.id)
        if seen in hashes:
            if hashes[seen] == item.hash:
                out.duplicates += 1
            else:
                out.dead.append(Dead(item.index, "this id was used with a different body"))
            continue
        hashes[seen] = item.hash
        fresh.append(item)
    return fresh


def _stored_ids(
    session: Session, ids: set[tuple[uuid.UUID, str]]
) -> list[tuple[uuid.UUID, str, str | None]]:
    """(workspace_id, idempotency_key, request_hash) of those of ``ids`` already stored."""
    if session.get_bind().dialect.name == "postgresql":
        pairs = sorted(ids)
        rows = session.execute(
            _SEEN_POSTGRESQL,
            {"workspaces": [w for w, _ in pairs], "keys": [k for _, k in pairs]},
        )
    else:
        rows = session.execute(
            select(Event.workspace_id, Event.idempotency_key, Event.request_hash).where(
                Event.workspace_id.in_({w for w, _ in ids}),
                Event.idempotency_key.in_({k for _, k in ids}),
            )
        )
    return [(ws, key, digest) for ws, key, digest in rows]


def _store(session: Session, items: list[_Item], out: Intake, source: str) -> None:
    rows: list[dict[str, Any]] = []
    times: dict[int, datetime] = {}
    at = datetime.now(UTC) - _TICK
    for item in items:
        at = max(datetime.now(UTC), at + _TICK)
        times[item.index] = at
    upserts: list[_Item] = []

    def flush_upserts() -> None:
        for item, error, record_id in _upsert(session, upserts, source) if upserts else ():
            if error is not None:
                out.dead.append(Dead(item.index, f"record refused: {error}"))
            else:
                rows.append(_event_row(item, times[item.index], record_id))
        upserts.clear()

    for item in items:
        if item.envelope.upsert is not None:
            if upserts and not _same_kind(upserts[0], item):
                flush_upserts()
            upserts.append(item)
            continue
        flush_upserts()
        rows.append(_event_row(item, times[item.index]))
    flush_upserts()
    if rows:
        # The event router's subscribers (marketing triggers, ...) run as over HTTP; an
        # event none of them wants is written processed, so the batch's rows are written
        # once (an UPDATE of every row doubled the writes and left as many dead rows).
        rows.sort(key=lambda r: r["received_at"])
        plan = plan_dispatch(
            session, [(r["id"], r["workspace_id"], r["type"], r["data"]) for r in rows]
        )
        wanted = {event_id for event_id, _ in plan}
        processed = datetime.now(UTC)
        for row in rows:
            row["processed_at"] = None if row["id"] in wanted else processed
        # One converted executemany (records.bulk; a COPY on PostgreSQL): the ORM's
        # per-row work was half the cost of a batch.
        insert_copy(session, _EVENTS, _COLUMNS, [[r[c] for c in _COLUMNS] for r in rows])
        dispatch_planned(session, plan)
    out.stored += len(rows)


def _same_kind(a: _Item, b: _Item) -> bool:
    assert a.envelope.upsert is not None and b.envelope.upsert is not None
    return (
        a.workspace_id == b.workspace_id
        and a.envelope.upsert.record_type == b.envelope.upsert.record_type
    )


def _upsert(
    session: Session, items: list[_Item], source: str
) -> list[tuple[_Item, str | None, uuid.UUID | None]]:
    """Batch upserts for consecutive upserts of one workspace and type (later items see
    earlier ones, so their order holds), at most ``MAX_BATCH`` at a time."""
    first = items[0].envelope.upsert
    assert first is not None
    out: list[tuple[_Item, str | None, uuid.UUID | None]] = []
    for start in range(0, len(items), MAX_BATCH):
        chunk = items[start : start + MAX_BATCH]
        payloads = [i.envelope.upsert.record for i in chunk if i.envelope.upsert is not None]
        try:
            results = upsert_records(
                session, items[0].workspace_id, first.record_type, payloads, source
            )
        except RecordError as exc:  # refused as a whole: each message is dead, not retried
            out += [(item, exc.message, None) for item in chunk]
            continue
        out += [
            (item, r.error if r.status == "error" else None, r.id)
            for item, r in zip(chunk, results, strict=True)
        ]
    return out


def _event_row(item: _Item, at: datetime, record_id: uuid.UUID | None = None) -> dict[str, Any]:
    envelope = item.envelope
    data = envelope.data
    if envelope.upsert is not None:
        data = {**envelope.upsert.model_dump(mode="json"), "record_id": str(record_id)}
    return {
        "id": new_id(),
        "workspace_id": item.workspace_id,
        "type": envelope.type,
        "data": data,
        "occurred_at": envelope.occurred_at or at,
        "received_at": at,
        "idempotency_key": envelope.id,
        "request_hash": item.hash,
    }


def _store_one_by_one(session: Session, items: list[_Item], out: Intake, source: str) -> None:
    for item in items:
        envelope = item.envelope
        body: dict[str, Any] = {"type": envelope.type, "data": envelope.data}
        if envelope.upsert is not None:
            # The record write is idempotent; the event row says whether the id was new.
            ((_, error, record_id),) = _upsert(session, [item], source)
            if error is not None:
                out.dead.append(Dead(item.index, f"record refused: {error}"))
                continue
            body = {"type": UPSERTED, "data": _event_row(item, _now(), record_id)["data"]}
        else:
            body["occurred_at"] = envelope.occurred_at
        try:
            _, replayed = record_event(
                session, item.workspace_id, body, envelope.id, request_hash=item.hash
            )
        except IdempotencyConflict:
            out.dead.append(Dead(item.index, "this id was used with a different body"))
            continue
        if replayed:
            out.duplicates += 1
        else:
            out.stored += 1


def _now() -> datetime:
    return datetime.now(UTC)
