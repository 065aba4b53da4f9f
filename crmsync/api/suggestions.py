"""Field-mapping suggestions as the API takes and answers them, for both routes that
suggest: ``/mappings/suggest`` (crmsync's fields, or a CRM's with ``target``) and
``/integrations/{id}/suggest-mappings`` (a CRM's fields)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session

from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.connectors.errors import ConnectorError
from crmsync.integrations.service import get_integration
from crmsync.mapping.schema import ObjectType
from crmsync.mapping.suggest import Suggestion, TargetField, suggest_mappings
from crmsync.sync.targets import targets_of

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


def remote_suggestions(
    db: Session,
    request: Request,
    workspace_id: uuid.UUID,
    integration_id: uuid.UUID,
    body: SuggestIn,
) -> JSON:
    integration = get_integration(db, workspace_id, integration_id)
    try:
        remote = targets_of(request.app).connector(integration).describe(body.object_type.value)
    except ConnectorError as exc:
        raise ApiError(
            502, "crm_error", f"could not read the CRM's fields: {exc.message}"
        ) from None
    targets = [TargetField(f.name, f.label) for f in remote if not f.read_only]
    found = suggest_mappings(body.fields, body.samples, targets, region=body.region)
    return JSON(suggestions_out(found))
