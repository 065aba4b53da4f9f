"""``POST /api/v1/mappings/suggest``: propose a field mapping for import headers."""

from __future__ import annotations

from fastapi import APIRouter, Request

from crmsync.api.deps import CanReadRecords, Db
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.api.suggestions import SuggestIn, SuggestOut, remote_suggestions, suggestions_out
from crmsync.mapping.suggest import suggest_mappings

router = APIRouter(route_class=GuardedRoute, prefix=f"{API_PREFIX}/mappings", tags=["mappings"])


@router.post("/suggest", response_model=SuggestOut, summary="Suggest a field mapping")
def suggest(principal: CanReadRecords, db: Db, request: Request, body: SuggestIn) -> JSON:
    """Each source field gets the canonical field it most likely means (or null), a
    confidence between 0 and 1, and up to three alternatives. With `target` set to an
    integration id, the targets are that CRM's own fields (custom ones included)."""
    if body.target is not None:
        return remote_suggestions(db, request, principal.workspace_id, body.target, body)
    found = suggest_mappings(body.fields, body.samples, body.object_type, region=body.region)
    return JSON(suggestions_out(found))
