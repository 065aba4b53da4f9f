"""The loan officer's start page: deals by stage and leads by status, with the engagement
score of each borrower, filtered by owner (mine by default), pipeline and text."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from crmsync.marketing import settings as marketing_settings
from crmsync.marketing import stats
from crmsync.web import queries
from crmsync.web.deps import Db
from crmsync.web.guard import Reader, WebRoute
from crmsync.web.render import page
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=UI_PREFIX, include_in_schema=False)


@router.get("/")
def pipeline(
    request: Request,
    user: Reader,
    db: Db,
    owner: Literal["mine", "all"] = "all",
    pipeline: Annotated[str, Query(max_length=100)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    chosen = queries.BoardFilter(
        owner=user.email if owner == "mine" else None, pipeline=pipeline or None, q=q or None
    )
    spread = stats.contact_stats(db, user.workspace_id)
    model = marketing_settings.load(db, user.workspace_id).engagement
    hot = queries.hot_contacts(db, user.workspace_id, model.high_threshold, chosen.owner)
    engagement = spread["engagement"]
    assert isinstance(engagement, dict)
    return page(
        request,
        "pipeline.html",
        {
            "deals": queries.deals_board(db, user.workspace_id, chosen),
            "leads": queries.leads_board(db, user.workspace_id, chosen),
            "pipelines": queries.pipelines(db, user.workspace_id),
            "owner": owner,
            "pipeline": pipeline,
            "q": q,
            "contacts": spread,
            "buckets": engagement["buckets"],
            "limit": queries.BOARD_LIMIT,
            "hot": hot,
            "high_threshold": model.high_threshold,
        },
    )
