"""Engagement: ``GET /api/v1/contacts/{id}/engagement`` (the score and why),
``POST /api/v1/engagement/recompute`` and the workspace's marketing settings
(``/api/v1/marketing/settings``: the engagement model and the timeline policy)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError

from crmsync.api.deps import CanManageMarketing, CanReadRecords, Db
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.marketing import crm_engagement, engagement_service, settings
from crmsync.records.service import get_record
from crmsync.sync.targets import targets_of

router = APIRouter(route_class=GuardedRoute, prefix=API_PREFIX, tags=["marketing"])


@router.get("/contacts/{contact_id}/engagement", summary="A contact's score and its reasons")
def get_engagement(
    principal: CanReadRecords, db: Db, request: Request, contact_id: uuid.UUID
) -> JSON:
    """The CRMs' own engagement figures are read first when older than the model's
    `crm_cache_minutes` (one hour)."""
    get_record(db, principal.workspace_id, "contacts", contact_id)
    resolver = targets_of(request.app)
    crm_engagement.pull(db, principal.workspace_id, contact_id, resolver.connector)
    db.commit()
    found = engagement_service.explain(db, principal.workspace_id, contact_id)
    model = found.model
    return JSON(
        {
            "contact_id": found.contact_id,
            "score": found.score,
            "as_of": found.as_of,
            "high": found.high,
            "contributions": [asdict(c) for c in found.contributions],
            "recent": found.recent,
            "model": {
                "half_life_days": model.half_life_days,
                "high_threshold": model.high_threshold,
                "cooled_threshold": model.cooled_threshold,
            },
        }
    )


@router.post("/engagement/recompute", summary="Score every contact again from its activities")
def recompute(principal: CanManageMarketing, db: Db) -> JSON:
    changed = engagement_service.recompute(db, principal.workspace_id)
    db.commit()
    return JSON({"changed": changed})


@router.get("/marketing/settings", summary="The engagement model and timeline policy")
def get_settings(principal: CanReadRecords, db: Db) -> JSON:
    return JSON(settings.load(db, principal.workspace_id).model_dump(mode="json"))


@router.put("/marketing/settings", summary="Replace the engagement model and timeline policy")
def put_settings(principal: CanManageMarketing, db: Db, body: dict[str, Any]) -> JSON:
    try:
        config = settings.MarketingConfig.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ApiError(422, "validation_error", f"{where}: {first.get('msg')}") from None
    settings.save(db, principal.workspace_id, config)
    db.commit()
    return JSON(config.model_dump(mode="json"))
