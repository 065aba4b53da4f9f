"""Duplicate detection over a workspace's stored contacts, with the workspace's settings.

The engine (``crmsync.dedup.engine``) works on plain records; ``snapshot`` keeps each
workspace's live contacts in its input form, current with the store, so repeated checks
and the pages of one cluster listing cost a few small queries each, not a rebuild.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from crmsync.dedup import reviews, snapshot
from crmsync.dedup.engine import Cluster, DuplicateCheck, PairExplanation
from crmsync.dedup.engine.rules import DISTINCT
from crmsync.dedup.guard import dedup_input
from crmsync.records.errors import RecordInvalid
from crmsync.records.payloads import parse_fields, to_dict
from crmsync.records.service import get_record

MAX_LIMIT = 500


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
    return _check(session, workspace_id, dedup_input(str(contact.id), values))


def check_candidate(
    session: Session, workspace_id: uuid.UUID, fields: Mapping[str, Any]
) -> DuplicateCheck:
    """Whether a contact not stored (yet), given by its fields, duplicates a stored one."""
    values = parse_fields("contacts", dict(fields))
    return _check(session, workspace_id, dedup_input(f"candidate:{uuid.uuid4()}", values))


def _check(session: Session, workspace_id: uuid.UUID, candidate: dict[str, Any]) -> DuplicateCheck:
    snap = snapshot.of(session, workspace_id)
    with snap.lock:
        result = snap.index().check(candidate)
    matched = result.duplicate_of or result.possible_of
    if matched is not None and matched != candidate["id"]:
        pair = tuple(sorted((str(candidate["id"]), matched)))
        if pair in reviews.rejected(session, workspace_id):
            # a person said these are two people: the check says so too
            return dataclasses.replace(
                result,
                is_duplicate=False,
                duplicate_of=None,
                possible_of=None,
                status=DISTINCT,
                explanation=f"rejected as a duplicate by a person; was: {result.explanation}",
            )
    return result


def clusters(
    session: Session, workspace_id: uuid.UUID, cursor: str | None = None, limit: int = 50
) -> tuple[list[Cluster], str | None]:
    """A page of the workspace's duplicate clusters, ordered by their smallest id.

    The cursor is that id, so pages neither skip nor repeat a cluster while the data
    stays the same, and a cluster changed between pages is still met at most once.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise RecordInvalid(f"limit must be between 1 and {MAX_LIMIT}")
    snap = snapshot.of(session, workspace_id)
    with snap.lock:
        found = snap.clusters()
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
        # the evidence against: fields that differ where both records have them
        "against": list(link.against),
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
        "status": result.status,
        "duplicate_of": result.duplicate_of,
        "possible_of": result.possible_of,
        "score": round(result.score, 4),
        "matched_fields": list(result.matched_fields),
        "explanation": result.explanation,
        "evidence": link_out(result.evidence) if result.evidence is not None else None,
    }
