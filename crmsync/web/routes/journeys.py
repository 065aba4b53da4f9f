"""Journeys: the catalogue as last read from the CRMs, and (for managers) how each
performs: enrolments, active, completed, unenrolled, completion rate, as a funnel."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from crmsync.auth.permissions import Permission
from crmsync.marketing import journeys, stats
from crmsync.web.deps import Db
from crmsync.web.guard import Reader, WebRoute, may
from crmsync.web.render import page
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=f"{UI_PREFIX}/journeys", include_in_schema=False)


@router.get("")
def journey_list(request: Request, user: Reader, db: Db) -> Response:
    catalogue = journeys.list_journeys(db, user.workspace_id)
    # performance is the API's marketing:manage figure (GET /journeys/performance)
    performance = (
        stats.journey_performance(db, user.workspace_id)
        if may(user, Permission.MARKETING_MANAGE)
        else None
    )
    return page(request, "journeys.html", {"journeys": catalogue, "performance": performance})
