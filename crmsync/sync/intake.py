"""Group commit of webhook events: many deliveries, one transaction.

A CRM under load sends deliveries in parallel, and each needs its events stored before it
is answered. Committing each delivery alone makes the writers queue for the database's
write lock (SQLite has one) and pays a commit per delivery. Instead, requests hand their
verified rows to one writer thread and wait; the writer takes everything queued so far,
inserts it in one statement, commits once, and answers every waiting request. A 2xx still
means "stored": no request is answered before the commit that holds its rows.

If a group's transaction fails, each delivery of it is written again on its own, so one
bad delivery fails alone (its request gets the error) and the others are stored.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Final

import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crmsync.store.models import WebhookEvent

log = structlog.get_logger("crmsync.sync.intake")

MAX_GROUP_ROWS: Final = 1000

Key = tuple[uuid.UUID, str]  # (integration id, provider event id)


class UnknownIntegration(Exception):
    """No integration of that provider has that id (or it was removed meanwhile)."""


@dataclass(frozen=True)
class Received:
    stored: int
    replayed: int


@dataclass
class _Delivery:
    rows: list[dict[str, Any]]
    done: Future[Received] = field(default_factory=Future)


def store_rows(session: Session, rows: Sequence[dict[str, Any]]) -> set[Key]:
    """Insert event rows, skipping events already stored; the keys inserted (no commit)."""
    if not rows:
        return set()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(WebhookEvent)
        .on_conflict_do_nothing(index_elements=["integration_id", "event_id"])
        .returning(WebhookEvent.integration_id, WebhookEvent.event_id)
    )
    return {(i, e) for i, e in session.execute(stmt, list(rows))}


def _answers(deliveries: Sequence[_Delivery], inserted: set[Key]) -> list[Received]:
    """Each delivery's count of stored and replayed events. An event sent twice in one
    group was inserted once: the first delivery to name it stored it, later ones replayed."""
    unclaimed = set(inserted)
    answers = []
    for delivery in deliveries:
        stored = 0
        for row in delivery.rows:
            key = (row["integration_id"], row["event_id"])
            if key in unclaimed:
                unclaimed.discard(key)
                stored += 1
        answers.append(Received(stored, len(delivery.rows) - stored))
    return answers


class EventWriter:
    """One writer thread per app; ``submit`` returns a future answered after the commit."""

    def __init__(self, sessions: sessionmaker[Session], max_rows: int = MAX_GROUP_ROWS):
        self._sessions = sessions
        self._max_rows = max_rows
        self._queue: deque[_Delivery] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="webhook-writer", daemon=True)
        self._thread.start()

    def submit(self, rows: list[dict[str, Any]]) -> Future[Received]:
        delivery = _Delivery(rows)
        if not rows:
            delivery.done.set_result(Received(0, 0))
            return delivery.done
        with self._wake:
            if self._closed:
                raise RuntimeError("the webhook writer is closed")
            self._queue.append(delivery)
            self._wake.notify()
        return delivery.done

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout)

    def _take(self) -> list[_Delivery] | None:
        with self._wake:
            while not self._queue:
                if self._closed:
                    return None
                self._wake.wait()
            group: list[_Delivery] = []
            rows = 0
            while self._queue and (not group or rows + len(self._queue[0].rows) <= self._max_rows):
                delivery = self._queue.popleft()
                group.append(delivery)
                rows += len(delivery.rows)
            return group

    def _run(self) -> None:
        while (group := self._take()) is not None:
            try:
                self._write(group)
            except Exception:  # answer each delivery alone: one bad one fails alone
                log.warning("webhook group failed; writing its deliveries alone", size=len(group))
                for delivery in group:
                    self._write_alone(delivery)

    def _write(self, group: list[_Delivery]) -> None:
        with self._sessions() as session:
            inserted = store_rows(session, [row for d in group for row in d.rows])
            session.commit()
        for delivery, answer in zip(group, _answers(group, inserted), strict=True):
            delivery.done.set_result(answer)

    def _write_alone(self, delivery: _Delivery) -> None:
        try:
            self._write([delivery])
        except IntegrityError:  # duplicates are skipped, so a missing integration it is
            gone = {str(row["integration_id"]) for row in delivery.rows}
            delivery.done.set_exception(UnknownIntegration(f"no integration {', '.join(gone)}"))
        except Exception as exc:
            delivery.done.set_exception(exc)
