"""``POST /api/v1/mappings/suggest``: propose a field mapping for import headers."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crmsync.api.deps import CanReadRecords, Db
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.mapping.schema import ObjectType
from crmsync.mapping.suggest import Suggestion, suggest_mappings

router = APIRouter(route_class=GuardedRoute, prefix=f"{API_PREFIX}/mappings", tags=["mappings"])

Header = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Sample = str | int | float | bool | None


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    object_type: ObjectType
    fields: list[Header] = Field(min_length=1, max_length=500)
    samples: dict[Header, Annotated[list[Sample], Field(max_length=100)]] | None = Field(
        default=None, description="a few values per field; they reveal e-mail and phone columns"
    )
    region: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] = "US"
    target: uuid.UUID | None = Field(
        default=None,
        description="an integration id: map onto that CRM's fields instead of crmsync's own",
    )


class AlternativeOut(BaseModel):
    target: str
    confidence: float


class SuggestionOut(BaseModel):
    source: str
    target: str | None
    confidence: float
    alternatives: list[AlternativeOut]


class SuggestOut(BaseModel):
    suggestions: list[SuggestionOut]


@router.post("/suggest", response_model=SuggestOut, summary="Suggest a field mapping")
def suggest(principal: CanReadRecords, db: Db, request: Request, body: SuggestIn) -> JSON:
    """Each source field gets the canonical field it most likely means (or null), a
    confidence between 0 and 1, and up to three alternatives. With `target` set to an
    integration id, the targets are that CRM's own fields (custom ones included)."""
    if body.target is not None:
        # imported here: that module builds on this one
        from crmsync.api.routers.integration_mappings import remote_suggestions

        return remote_suggestions(db, request, principal.workspace_id, body.target, body)
    found = suggest_mappings(body.fields, body.samples, body.object_type, region=body.region)
    return JSON(suggestions_out(found))


def suggestions_out(found: list[Suggestion]) -> dict[str, Any]:
    return {
        "suggestions": [
            {
                "source": s.source,
                "target": s.target,
                "confidence": s.confidence,
                "alternatives": [
                    {"target": a.target, "confidence": a.confidence} for a in s.alternatives
                ],
            }
            for s in found
        ]
    }
