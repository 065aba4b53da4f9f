"""Duplicate detection over a workspace's stored contacts, with the workspace's settings.

The engine (``crmsync.quality.dedup``) works on plain records; this module loads the
workspace's live contacts into it. The index and the clusters are kept per workspace in
this process and rebuilt when the workspace's contacts or settings change (any change
moves a contact's ``updated_at``: a create, an edit, a delete or a merge), so repeated
checks and the pages of one cluster listing cost one small query each, not a rebuild.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.dedup import settings as dedup_settings
from crmsync.imports.duplicates import dedup_input
from crmsync.quality.dedup import (
    Cluster,
    DedupSettings,
    DuplicateCheck,
    DuplicateClusters,
    DuplicateIndex,
    PairExplanation,
    find_duplicates,
)
from crmsync.records.errors import RecordInvalid
from crmsync.records.payloads import parse_fields, to_dict
from crmsync.records.service import get_record
from crmsync.store.models import Contact

MAX_LIMIT = 500
# A snapshot older than this is rebuilt even when its fingerprint still matches: a
# change committed late with an earlier updated_at than one already seen goes unnoticed
# by the fingerprint, and this bounds how long.
MAX_AGE_SECONDS = 300.0
# Workspaces whose index and clusters stay in memory at once.
CACHED_WORKSPACES = 8
_COLUMNS = (
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

Fingerprint = tuple[int, datetime | None, str]


@dataclass
class _Snapshot:
    """One workspace's contacts as the engine sees them, and what was computed from them."""

    fingerprint: Fingerprint
    settings: DedupSettings
    records: list[dict[str, Any]]
    built_at: float = field(default_factory=time.monotonic)
    index: DuplicateIndex | None = None
    clusters: DuplicateClusters | None = None
    # cluster positions ordered by their smallest id, and those ids: the keyset of paging
    order: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


_CACHE: OrderedDict[uuid.UUID, _Snapshot] = OrderedDict()
_LOCK = threading.Lock()


def _fingerprint(session: Session, workspace_id: uuid.UUID, chosen: DedupSettings) -> Fingerprint:
    count, last = session.execute(
        select(func.count(), func.max(Contact.updated_at)).where(
            Contact.workspace_id == workspace_id
        )
    ).one()
    return int(count), last, chosen.model_dump_json()


def _live_contacts(session: Session, workspace_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    stmt = (
        select(Contact.id, *(getattr(Contact, c) for c in _COLUMNS))
        .where(Contact.workspace_id == workspace_id, Contact.deleted_at.is_(None))
        .execution_options(yield_per=10_000)
    )
    for row in session.execute(stmt):
        yield dedup_input(str(row[0]), dict(zip(_COLUMNS, row[1:], strict=True)))


def _snapshot(session: Session, workspace_id: uuid.UUID) -> _Snapshot:
    chosen = dedup_settings.load(session, workspace_id)
    fingerprint = _fingerprint(session, workspace_id, chosen)
    with _LOCK:
        snap = _CACHE.get(workspace_id)
        fresh = snap is not None and time.monotonic() - snap.built_at < MAX_AGE_SECONDS
        if snap is not None and fresh and snap.fingerprint == fingerprint:
            _CACHE.move_to_end(workspace_id)
            return snap
    snap = _Snapshot(fingerprint, chosen, list(_live_contacts(session, workspace_id)))
    with _LOCK:
        _CACHE[workspace_id] = snap
        _CACHE.move_to_end(workspace_id)
        while len(_CACHE) > CACHED_WORKSPACES:
            _CACHE.popitem(last=False)
    return snap


def _index(snap: _Snapshot) -> DuplicateIndex:
    if snap.index is None:
        snap.index = DuplicateIndex.build(snap.records, snap.settings)
    return snap.index


def _clusters(snap: _Snapshot) -> DuplicateClusters:
    if snap.clusters is None:
        found = find_duplicates(snap.records, snap.settings)
        firsts = [min(ids) for ids in found.id_groups()]
        snap.order = sorted(range(len(firsts)), key=firsts.__getitem__)
        snap.keys = [firsts[i] for i in snap.order]
        snap.clusters = found
    return snap.clusters


def check(
    session: Session,
    workspace_id: uuid.UUID,
    record_id: uuid.UUID,
    changes: Mapping[str, Any] | None = None,
) -> DuplicateCheck:
    """Whether the stored contact (with ``changes`` applied, if given) duplicates another."""
    contact = get_record(session, workspace_id, "contacts", record_id)
    values = to_dict(contact)
    if changes:
        values.update(parse_fields("contacts", dict(changes)))
    candidate = dedup_input(str(contact.id), values)
    return _index(_snapshot(session, workspace_id)).check(candidate)


def clusters(
    session: Session, workspace_id: uuid.UUID, cursor: str | None = None, limit: int = 50
) -> tuple[list[Cluster], str | None]:
    """A page of the workspace's duplicate clusters, ordered by their smallest id.

    The cursor is that id, so pages neither skip nor repeat a cluster while the data
    stays the same, and a cluster changed between pages is still met at most once.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise RecordInvalid(f"limit must be between 1 and {MAX_LIMIT}")
    snap = _snapshot(session, workspace_id)
    found = _clusters(snap)
    start = bisect.bisect_right(snap.keys, _decode(cursor)) if cursor else 0
    page = [found[i] for i in snap.order[start : start + limit]]
    more = start + limit < len(snap.keys)
    return page, _encode(snap.keys[start + limit - 1]) if more else None


def _encode(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        return str(uuid.UUID(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise RecordInvalid(
            "cursor is not one this API returned; pass next_cursor unchanged"
        ) from None


def link_out(link: PairExplanation) -> dict[str, Any]:
    """A pair's explanation as JSON: per field both values, similarity and weight."""
    return {
        "left_id": link.left_id,
        "right_id": link.right_id,
        "score": round(link.score, 4),
        "rule": link.rule,
        "matched_fields": list(link.matched_fields),
        "text": link.text(),
        "fields": [
            {
                "field": f.field,
                "left": f.left,
                "right": f.right,
                "similarity": f.similarity,
                "weight": round(f.weight, 3),
                "agrees": f.agrees,
            }
            for f in link.fields
            if f.similarity is not None
        ],
    }


def cluster_out(cluster: Cluster) -> dict[str, Any]:
    return {
        "ids": sorted(cluster.ids),
        "score": round(cluster.score, 4),
        "explanation": cluster.explanation,
        "links": [link_out(link) for link in cluster.links],
    }


def check_out(result: DuplicateCheck) -> dict[str, Any]:
    return {
        "is_duplicate": result.is_duplicate,
        "duplicate_of": result.duplicate_of,
        "score": round(result.score, 4),
        "matched_fields": list(result.matched_fields),
        "explanation": result.explanation,
        "evidence": link_out(result.evidence) if result.evidence is not None else None,
    }
