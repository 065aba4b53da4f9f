"""Duplicates of contacts: list clusters, check one contact, merge, and the settings.

Registered before the record routers, so ``/contacts/duplicates`` and
``/contacts/merge`` are never taken for a contact id.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from crmsync.api.deps import CanReadRecords, CanWriteRecords, Db, require
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.auth.keys import Principal
from crmsync.auth.permissions import Permission
from crmsync.dedup import reviews, service
from crmsync.dedup import settings as dedup_settings
from crmsync.dedup.engine import DedupSettings
from crmsync.dedup.merge import MAX_MERGED, merge
from crmsync.dedup.strategies import Strategy
from crmsync.records.payloads import to_dict
from crmsync.store.models import ReviewStatus

router = APIRouter(route_class=GuardedRoute, prefix=API_PREFIX, tags=["duplicates"])

# Merging soft-deletes contacts, so it takes what deleting takes; settings are the admin's.
CanMerge = Annotated[Principal, Depends(require(Permission.RECORDS_DELETE))]
CanAdministrate = Annotated[Principal, Depends(require(Permission.WORKSPACE_ADMIN))]


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    survivor_id: uuid.UUID = Field(description="the contact that stays")
    merged_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=MAX_MERGED, description="contacts merged into the survivor"
    )
    strategy: Strategy = Field(
        Strategy.MERGE,
        description="prefer_new | prefer_existing | merge (per field, the newest value)",
    )


class PairIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[uuid.UUID] = Field(min_length=2, max_length=2, description="the two contacts")


@router.get("/contacts/duplicates", summary="List clusters of duplicates, or reviewed pairs")
def duplicates(
    principal: CanReadRecords,
    db: Db,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
    status: Annotated[
        ReviewStatus | None,
        Query(description="the review queue: pairs with this status instead of clusters"),
    ] = None,
) -> JSON:
    """Clusters ordered by their smallest contact id; with `status`, pairs of the review
    queue ordered by their ids. Pass `next_cursor` back as `cursor`."""
    if status is not None:
        pairs, after = reviews.listing(db, principal.workspace_id, status, cursor, limit)
        return JSON({"pairs": [reviews.pair_out(p) for p in pairs], "next_cursor": after})
    page, next_cursor = service.clusters(db, principal.workspace_id, cursor, limit)
    return JSON({"clusters": [service.cluster_out(c) for c in page], "next_cursor": next_cursor})


@router.post("/contacts/duplicates/confirm", summary="Confirm two contacts are one person")
def confirm_pair(principal: CanWriteRecords, db: Db, body: PairIn) -> JSON:
    """Records the decision (merge them with `/contacts/merge`); the pair leaves the queue."""
    pair = reviews.decide(db, principal.workspace_id, body.ids[0], body.ids[1], "confirmed")
    db.commit()
    return JSON(reviews.pair_out(pair))


@router.post("/contacts/duplicates/reject", summary="Reject a possible duplicate")
def reject_pair(principal: CanWriteRecords, db: Db, body: PairIn) -> JSON:
    """Two different people: the pair is never proposed again (listings, checks, imports)."""
    pair = reviews.decide(db, principal.workspace_id, body.ids[0], body.ids[1], "rejected")
    db.commit()
    return JSON(reviews.pair_out(pair))


@router.post(
    "/contacts/{record_id}/check-duplicate", summary="Check whether a contact is a duplicate"
)
def check_duplicate(
    principal: CanReadRecords,
    db: Db,
    record_id: uuid.UUID,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> JSON:
    """Without a body, checks the stored contact; with contact fields, checks the stored
    contact as it would be with those fields changed (before a PATCH). Changes nothing."""
    result = service.check(db, principal.workspace_id, record_id, body)
    return JSON(service.check_out(result))


@router.post("/contacts/merge", summary="Merge duplicate contacts into one")
def merge_contacts(principal: CanMerge, db: Db, body: MergeIn) -> JSON:
    """One transaction: the survivor's fields by strategy, references and Links moved,
    the others soft-deleted (their ids keep resolving to the survivor), CRM jobs queued."""
    result = merge(db, principal.workspace_id, body.survivor_id, body.merged_ids, body.strategy)
    db.commit()
    return JSON(
        {
            "survivor": to_dict(result.survivor),
            "merged_ids": [str(i) for i in result.merged_ids],
            "changed_fields": result.changed_fields,
            "moved": result.moved,
            "crm_jobs": result.crm_jobs,
        }
    )


@router.get("/settings/dedup", response_model=DedupSettings, summary="Duplicate settings")
def get_settings(principal: CanReadRecords, db: Db) -> JSON:
    return JSON(dedup_settings.load(db, principal.workspace_id).model_dump(mode="json"))


@router.put("/settings/dedup", response_model=DedupSettings, summary="Change duplicate settings")
def put_settings(
    principal: CanAdministrate, db: Db, body: Annotated[dict[str, Any], Body()]
) -> JSON:
    """Replaces the workspace's settings; values left out take their defaults."""
    chosen = dedup_settings.save(db, principal.workspace_id, body)
    db.commit()
    return JSON(chosen.model_dump(mode="json"))
