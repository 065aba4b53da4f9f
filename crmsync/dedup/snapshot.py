"""A workspace's live contacts as the dedup engine sees them, cached per process.

``of(session, workspace_id)`` answers the workspace's ``Snapshot``: its contacts in the
engine's input form, and (built on first use) the ``DuplicateIndex`` for checks and the
clusters for listing. Any change to a contact moves its ``updated_at`` (a create, an
edit, a delete, a merge), so a cheap fingerprint (the newest ``updated_at`` and the
settings) says whether the snapshot is current. When it is not, the contacts changed
since (plus a margin) are read and applied to the index in one batch; a catch-up
that does not add up (the live count disagrees), a large one, new settings, or a
snapshot older than ``MAX_AGE_SECONDS`` rebuild from scratch instead. Clusters are
recomputed after any change: the engine clusters a whole list at once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.dedup import settings as dedup_settings
from crmsync.dedup.engine import DedupSettings, DuplicateClusters, DuplicateIndex, find_duplicates
from crmsync.dedup.guard import dedup_input
from crmsync.store.models import Contact

# Workspaces kept in memory at once.
CACHED_WORKSPACES = 8
# Rebuilt at this age even when the fingerprint matches: an edit committed late with an
# updated_at older than one already seen (beyond the margin) is caught by then. Inserts
# and deletes missed that way are caught at once by the live count.
MAX_AGE_SECONDS = 3600.0
# Catching up re-reads contacts changed this long before the newest change already seen,
# for transactions that committed after it with an earlier updated_at.
CATCH_UP_MARGIN = timedelta(seconds=5)
# More changes than this since the last look: a rebuild is as cheap.
CATCH_UP_LIMIT = 5_000
COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "city",
    "postal_code",
    "address_line1",
    "date_of_birth",
)

Fingerprint = tuple[datetime | None, str]


@dataclass
class Snapshot:
    fingerprint: Fingerprint
    settings: DedupSettings
    records: dict[str, dict[str, Any]]
    built_at: float = field(default_factory=time.monotonic)
    # One caller at a time uses or changes the index and clusters of a workspace.
    lock: threading.Lock = field(default_factory=threading.Lock)
    _index: DuplicateIndex | None = None
    _clusters: DuplicateClusters | None = None
    # cluster positions ordered by their smallest id, and those ids: the keyset of paging
    order: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def index(self) -> DuplicateIndex:
        """The check index (call with ``lock`` held)."""
        if self._index is None:
            self._index = DuplicateIndex.build(self.records.values(), self.settings)
        return self._index

    def clusters(self) -> DuplicateClusters:
        """Every cluster, with ``order``/``keys`` set (call with ``lock`` held)."""
        if self._clusters is None:
            found = find_duplicates(self.records.values(), self.settings)
            firsts = [min(ids) for ids in found.id_groups()]
            self.order = sorted(range(len(firsts)), key=firsts.__getitem__)
            self.keys = [firsts[i] for i in self.order]
            self._clusters = found
        return self._clusters

    def apply(self, changed: Iterable[tuple[str, dict[str, Any] | None]]) -> None:
        """Contacts changed since: their new input, or None when no longer live."""
        live: list[dict[str, Any]] = []
        for key, record in changed:
            if record is None:
                if self.records.pop(key, None) is not None and self._index is not None:
                    self._index.remove(key)
            else:
                self.records[key] = record
                live.append(record)
        if self._index is not None and live:
            self._index.add_many(live)  # one batch: preparing records one by one is slow
        self._clusters = None


_CACHE: OrderedDict[uuid.UUID, Snapshot] = OrderedDict()
_LOCK = threading.Lock()


def _fingerprint(session: Session, workspace_id: uuid.UUID, chosen: DedupSettings) -> Fingerprint:
    # One step down the (workspace_id, updated_at, id) index: cheap at any size.
    last = session.scalar(
        select(func.max(Contact.updated_at)).where(Contact.workspace_id == workspace_id)
    )
    return last, chosen.model_dump_json()


def _live_count(session: Session, workspace_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                Contact.workspace_id == workspace_id, Contact.deleted_at.is_(None)
            )
        )
        or 0
    )


def _read(
    session: Session, workspace_id: uuid.UUID, since: datetime | None = None
) -> Iterable[tuple[str, dict[str, Any] | None]]:
    """(id, engine input or None if deleted) of live contacts, or of all changed since."""
    stmt = select(Contact.id, Contact.deleted_at, *(getattr(Contact, c) for c in COLUMNS)).where(
        Contact.workspace_id == workspace_id
    )
    if since is None:
        stmt = stmt.where(Contact.deleted_at.is_(None)).execution_options(yield_per=10_000)
    else:
        stmt = stmt.where(Contact.updated_at >= since).limit(CATCH_UP_LIMIT + 1)
    for row in session.execute(stmt):
        key = str(row[0])
        live = row[1] is None
        yield key, dedup_input(key, dict(zip(COLUMNS, row[2:], strict=True))) if live else None


def _caught_up(session: Session, workspace_id: uuid.UUID, snap: Snapshot, now: Fingerprint) -> bool:
    seen = snap.fingerprint[0]
    if seen is None or now[1] != snap.fingerprint[1]:
        return False
    changed = list(_read(session, workspace_id, seen - CATCH_UP_MARGIN))
    if len(changed) > CATCH_UP_LIMIT:
        return False
    snap.apply(changed)
    snap.fingerprint = now
    # Counted only after a change: a change outside the margin shows as a difference.
    return len(snap.records) == _live_count(session, workspace_id)


def of(session: Session, workspace_id: uuid.UUID) -> Snapshot:
    """The workspace's current snapshot; hold its ``lock`` while using it."""
    chosen = dedup_settings.load(session, workspace_id)
    now = _fingerprint(session, workspace_id, chosen)
    with _LOCK:
        snap = _CACHE.get(workspace_id)
    if snap is not None and time.monotonic() - snap.built_at < MAX_AGE_SECONDS:
        with snap.lock:
            if snap.fingerprint == now or _caught_up(session, workspace_id, snap, now):
                with _LOCK:
                    _CACHE.move_to_end(workspace_id)
                return snap
    records = {key: record for key, record in _read(session, workspace_id) if record is not None}
    snap = Snapshot(now, chosen, records)
    with _LOCK:
        _CACHE[workspace_id] = snap
        _CACHE.move_to_end(workspace_id)
        while len(_CACHE) > CACHED_WORKSPACES:
            _CACHE.popitem(last=False)
    return snap


def forget(workspace_id: uuid.UUID) -> None:
    """Drop the workspace's snapshot: the next use rebuilds it."""
    with _LOCK:
        _CACHE.pop(workspace_id, None)
