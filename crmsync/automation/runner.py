"""Record changes reach rules from the ChangeLog, read in id order behind a cursor.

The ChangeLog already holds every change with its source (app, import, CRM, rule), so
rules cost no extra write on the change path. Only workspaces with an enabled record
rule are read. The rows one write made (same record, time and source) are one cause,
keyed by its first row's id. As with outbound webhooks, the cursor moves only past rows
older than ``SETTLE`` (a transaction may commit a smaller id late); rows read twice fire
nothing twice (``AutomationRun`` is unique per rule and cause).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.automation.engine import Cause, fire
from crmsync.automation.spec import RuleSpec
from crmsync.store.engine import session_scope
from crmsync.store.models import AutomationCursor, AutomationRule, ChangeLog

log = logging.getLogger("crmsync.automation")
CREATED: Final = "*"  # the field of a creation's one ChangeLog row (records.changelog)
SETTLE: Final = timedelta(seconds=5)
BATCH: Final = 5_000
CURSOR: Final = "changelog"


def _record_rules(session: Session) -> dict[uuid.UUID, list[AutomationRule]]:
    out: dict[uuid.UUID, list[AutomationRule]] = defaultdict(list)
    for rule in session.scalars(
        select(AutomationRule).where(AutomationRule.enabled.is_(True)).order_by(AutomationRule.name)
    ):
        if RuleSpec.model_validate(rule.spec).trigger.record is not None:
            out[rule.workspace_id].append(rule)
    return out


def causes(rows: list[Any]) -> list[Cause]:
    """Group ChangeLog rows (id order) into one cause per write of one record."""
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        grouped.setdefault((row.record_id, row.at, row.source), []).append(row)
    out = []
    for group in grouped.values():
        first = group[0]
        changes: dict[str, tuple[Any, Any]] = {}
        created = False
        for row in group:
            if row.field == CREATED:
                created = True
                changes.update({k: (None, v) for k, v in (row.new_value or {}).items()})
            else:
                changes[row.field] = (row.old_value, row.new_value)
        out.append(
            Cause(
                key=f"change:{first.id}",
                workspace_id=first.workspace_id,
                source=first.source,
                record_type=first.record_type,
                record_id=first.record_id,
                created=created,
                changes=changes,
            )
        )
    return out


def run_once(session: Session, now: datetime | None = None, batch: int = BATCH) -> int:
    """Read the next ChangeLog rows and fire the rules they trigger; returns rows read."""
    now = now or datetime.now(UTC)
    cursor = session.get(AutomationCursor, CURSOR)
    if cursor is None:
        cursor = AutomationCursor(name=CURSOR, last_id=0)
        session.add(cursor)
    rules = _record_rules(session)
    if not rules:
        return 0
    rows = (
        session.execute(
            select(ChangeLog)
            .where(ChangeLog.id > cursor.last_id, ChangeLog.workspace_id.in_(list(rules)))
            .order_by(ChangeLog.id)
            .limit(batch)
        )
        .scalars()
        .all()
    )
    for cause in causes(list(rows)):
        for rule in rules.get(cause.workspace_id, []):
            fire(session, rule, cause, now)
    last = cursor.last_id
    for row in rows:
        if row.at > now - SETTLE:
            break
        last = row.id
    cursor.last_id = last
    return len(rows)


class RulesRunner:
    """The loop the worker runs."""

    def __init__(self, sessions: sessionmaker[Session], *, poll_interval: float = 1.0) -> None:
        self.sessions = sessions
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with session_scope(self.sessions) as session:
                    read = run_once(session)
            except Exception:  # the next round reads the same rows again
                log.exception("automation round failed")
                read = 0
            if read < BATCH:
                self._stop.wait(self.poll_interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="automation", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
