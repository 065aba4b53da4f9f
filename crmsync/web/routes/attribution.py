"""Attribution: conversions and their value credited to channels, platforms or campaigns
by any of the six models, as ``GET /api/v1/attribution``, with a chart drawn on the
server. For anyone who may read records. Dates are whole UTC days, ``to`` included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from crmsync.marketing.attribution import service
from crmsync.marketing.attribution.conversions import Kind
from crmsync.marketing.attribution.credit import Model
from crmsync.marketing.attribution.paths import GroupBy
from crmsync.web.deps import Db
from crmsync.web.guard import Reader, WebProblem, WebRoute
from crmsync.web.render import page
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=f"{UI_PREFIX}/attribution", include_in_schema=False)
MODELS = {
    Model.FIRST_TOUCH: "First touch",
    Model.LAST_TOUCH: "Last touch",
    Model.LINEAR: "Linear",
    Model.TIME_DECAY: "Time decay",
    Model.POSITION_BASED: "Position-based (40/20/40)",
    Model.MARKOV: "Data-driven (Markov removal effect)",
}
KINDS = {
    Kind.LEAD_CREATED: "Leads created",
    Kind.LEAD_CONVERTED: "Leads converted",
    Kind.DEAL_WON: "Deals won (their amount)",
}
GROUPS = {GroupBy.CAMPAIGN: "Campaign", GroupBy.CHANNEL: "Channel", GroupBy.PLATFORM: "Platform"}


def _day(value: date | None, *, after: bool) -> datetime:
    if value is None:
        return service.FAR if after else service.EPOCH
    start = datetime.combine(value, time(), tzinfo=UTC)
    return start + timedelta(days=1) if after else start


@router.get("")
def attribution_page(
    request: Request,
    user: Reader,
    db: Db,
    model: Model = Model.LINEAR,
    conversion: Kind = Kind.LEAD_CREATED,
    group_by: GroupBy = GroupBy.CAMPAIGN,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    half_life_days: Annotated[float, Query(gt=0, le=3650)] = 7.0,
) -> Response:
    first, last = _day(start, after=False), _day(end, after=True)
    if first >= last:
        raise WebProblem(422, "from must be on or before to")
    options = service.Options(
        model=model,
        kind=conversion,
        start=first,
        end=last,
        group_by=group_by,
        half_life_days=half_life_days,
    )
    found = service.report(db, user.workspace_id, options)
    context = {
        "report": found,
        "chosen": {
            "model": model,
            "conversion": conversion,
            "group_by": group_by,
            "from": start.isoformat() if start else "",
            "to": end.isoformat() if end else "",
            "half_life_days": half_life_days,
        },
        "models": MODELS,
        "kinds": KINDS,
        "groups": GROUPS,
        "by_value": conversion is Kind.DEAL_WON,
    }
    return page(request, "attribution.html", context)
