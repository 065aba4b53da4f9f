"""The review queue of possible duplicates: list, confirm, reject; rejections are remembered.

A pair is `possible` when the engine finds it likely but not sure enough to act on
(``DedupSettings.possible_threshold``). Pairs come from imports (a `possible` row is
imported and its pair stored here) and from the workspace's contacts as they are now
(the snapshot's ``find_duplicates``). A person confirms a pair (then merges it with
``merge``) or rejects it; a rejected pair is never proposed again, by a listing, a
check or an import. Services take the caller's session and never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.dedup import snapshot
from crmsync.records.errors import RecordInvalid
from crmsync.records.service import get_record
from crmsync.store.models import DuplicateReview, ReviewStatus

POSSIBLE, CONFIRMED, REJECTED = ReviewStatus.POSSIBLE, ReviewStatus.CONFIRMED, ReviewStatus.REJECTED
STATUSES = (POSSIBLE, CONFIRMED, REJECTED)
Decision = Literal["confirmed", "rejected"]
RECORD_TYPE = "contacts"


@dataclass(frozen=True)
class Pair:
    """A pair in the queue (or decided): the smaller id first."""

    left_id: str
    right_id: str
    status: str
    score: float
    source: str

    @property
    def key(self) -> str:
        return f"{self.left_id}:{self.right_id}"


def ordered(a: uuid.UUID | str, b: uuid.UUID | str) -> tuple[uuid.UUID, uuid.UUID]:
    x, y = sorted((str(a), str(b)))
    return uuid.UUID(x), uuid.UUID(y)


def _stored(
    session: Session, workspace_id: uuid.UUID, status: str | None = None
) -> list[DuplicateReview]:
    stmt = select(DuplicateReview).where(
        DuplicateReview.workspace_id == workspace_id,
        DuplicateReview.record_type == RECORD_TYPE,
    )
    if status is not None:
        stmt = stmt.where(DuplicateReview.status == status)
    return list(session.scalars(stmt))


def decided(session: Session, workspace_id: uuid.UUID) -> set[tuple[str, str]]:
    """Pairs a person confirmed or rejected: never proposed as possible again."""
    return {
        (str(r.left_id), str(r.right_id))
        for r in _stored(session, workspace_id)
        if r.status != POSSIBLE
    }


def rejected(session: Session, workspace_id: uuid.UUID) -> set[tuple[str, str]]:
    return {(str(r.left_id), str(r.right_id)) for r in _stored(session, workspace_id, REJECTED)}


def queue(
    session: Session,
    workspace_id: uuid.UUID,
    pairs: Iterable[tuple[uuid.UUID, uuid.UUID, float]],
    source: str,
) -> int:
    """Store possible pairs not stored yet (a decided pair stays decided); how many."""
    wanted: dict[tuple[uuid.UUID, uuid.UUID], float] = {}
    for a, b, score in pairs:
        if a != b:
            wanted.setdefault(ordered(a, b), score)
    if not wanted:
        return 0
    lefts = {left for left, _ in wanted}
    known = {
        (r.left_id, r.right_id)
        for r in session.scalars(
            select(DuplicateReview).where(
                DuplicateReview.workspace_id == workspace_id,
                DuplicateReview.record_type == RECORD_TYPE,
                DuplicateReview.left_id.in_(lefts),
            )
        )
    }
    added = 0
    for (left, right), score in wanted.items():
        if (left, right) in known:
            continue
        session.add(
            DuplicateReview(
                workspace_id=workspace_id,
                record_type=RECORD_TYPE,
                left_id=left,
                right_id=right,
                status=POSSIBLE,
                score=score,
                source=source,
            )
        )
        added += 1
    session.flush()
    return added


def listing(
    session: Session,
    workspace_id: uuid.UUID,
    status: str,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Pair], str | None]:
    """A page of pairs with ``status``, ordered by (left id, right id); the cursor is the
    last pair's key. `possible` holds the stored pairs and the pairs the workspace's
    contacts give now, less every pair a person decided."""
    if status not in STATUSES:
        raise RecordInvalid(f"status must be one of {', '.join(STATUSES)}")
    pairs = {
        (str(r.left_id), str(r.right_id)): Pair(
            str(r.left_id), str(r.right_id), r.status, round(r.score, 4), r.source
        )
        for r in _stored(session, workspace_id, status)
    }
    if status == POSSIBLE:
        done = decided(session, workspace_id)
        snap = snapshot.of(session, workspace_id)
        with snap.lock:
            live = snap.clusters().possible_pairs()
        alive = set(snap.records)
        for left, right, score in live:
            if (left, right) not in done and (left, right) not in pairs:
                pairs[(left, right)] = Pair(left, right, POSSIBLE, score, "scan")
        # a stored pair whose contact is gone (deleted, merged away) has nothing to review
        pairs = {k: p for k, p in pairs.items() if k[0] in alive and k[1] in alive}
    ordered_pairs = [pairs[k] for k in sorted(pairs)]
    start = 0
    if cursor:
        start = next((n for n, p in enumerate(ordered_pairs) if p.key > cursor), len(pairs))
    page = ordered_pairs[start : start + limit]
    more = start + limit < len(ordered_pairs)
    return page, page[-1].key if more and page else None


def decide(
    session: Session,
    workspace_id: uuid.UUID,
    a: uuid.UUID,
    b: uuid.UUID,
    decision: Decision,
) -> Pair:
    """Confirm or reject the pair (a, b), stored or not; both must be the workspace's
    contacts (another workspace's id is not found)."""
    if a == b:
        raise RecordInvalid("a pair needs two different contacts")
    for record_id in (a, b):  # RecordNotFound (a 404) for another workspace's contact
        get_record(session, workspace_id, RECORD_TYPE, record_id)
    left, right = ordered(a, b)
    review = session.scalars(
        select(DuplicateReview).where(
            DuplicateReview.workspace_id == workspace_id,
            DuplicateReview.record_type == RECORD_TYPE,
            DuplicateReview.left_id == left,
            DuplicateReview.right_id == right,
        )
    ).one_or_none()
    if review is None:
        review = DuplicateReview(
            workspace_id=workspace_id,
            record_type=RECORD_TYPE,
            left_id=left,
            right_id=right,
            score=0.0,
            source="api",
        )
        session.add(review)
    review.status = decision
    review.decided_at = datetime.now(UTC)
    session.flush()
    return Pair(str(left), str(right), decision, round(review.score, 4), review.source)


def pair_out(pair: Pair) -> dict[str, object]:
    return {
        "ids": [pair.left_id, pair.right_id],
        "status": pair.status,
        "score": pair.score,
        "source": pair.source,
    }
