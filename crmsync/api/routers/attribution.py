"""Touchpoints, campaigns and multi-touch attribution (``/touchpoints``, ``/campaigns``,
``/attribution``, ``/integrations/{id}/leads/attribution``)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from crmsync.api.deps import CanDeleteRecords, CanReadRecords, CanWriteEvents, CanWriteRecords, Db
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.integrations.service import get_integration
from crmsync.marketing.attribution import campaigns, crm_campaigns, service, touchpoints
from crmsync.marketing.attribution.conversions import Kind
from crmsync.marketing.attribution.credit import Model
from crmsync.marketing.attribution.paths import GroupBy
from crmsync.store.models import Campaign, Integration, Touchpoint
from crmsync.sync.targets import targets_of

router = APIRouter(route_class=GuardedRoute, prefix=API_PREFIX, tags=["attribution"])
MAX_BATCH = 1000

ModelQ = Annotated[Model, Query(description="the attribution model")]
KindQ = Annotated[Kind, Query(alias="conversion", description="which conversions to credit")]
FromQ = Annotated[datetime | None, Query(alias="from", description="conversions at or after")]
ToQ = Annotated[datetime | None, Query(alias="to", description="conversions before")]
HalfLifeQ = Annotated[float, Query(gt=0, le=3650, description="time_decay's half-life, days")]
LookbackQ = Annotated[float, Query(gt=0, le=3650, description="touches counted before, days")]


def _options(
    model: Model,
    kind: Kind,
    start: datetime | None,
    end: datetime | None,
    half_life_days: float,
    lookback_days: float,
    group_by: GroupBy = GroupBy.CHANNEL,
) -> service.Options:
    options = service.Options(
        model=model,
        kind=kind,
        start=start or service.EPOCH,
        end=end or service.FAR,
        group_by=group_by,
        half_life_days=half_life_days,
        lookback_days=lookback_days,
    )
    if options.start.tzinfo is None or options.end.tzinfo is None:
        raise ApiError(422, "validation_error", "from and to need a UTC offset (e.g. Z)")
    if options.start >= options.end:
        raise ApiError(422, "validation_error", "from must be before to")
    return options


# --- touchpoints -------------------------------------------------------------------


class TouchpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contact_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    contact_ref: str | None = Field(None, max_length=255)
    lead_ref: str | None = Field(None, max_length=255)
    occurred_at: datetime | None = None
    channel: str = Field(min_length=1, max_length=100)
    platform: str | None = Field(None, max_length=100)
    type: str | None = Field(None, max_length=100)
    campaign: str | None = Field(None, max_length=255)
    crm_campaign_id: str | None = Field(None, max_length=100)
    content_id: str | None = Field(None, max_length=255)
    conversation_id: str | None = Field(None, max_length=255)
    utm_source: str | None = Field(None, max_length=255)
    utm_medium: str | None = Field(None, max_length=255)
    utm_campaign: str | None = Field(None, max_length=255)
    utm_term: str | None = Field(None, max_length=255)
    utm_content: str | None = Field(None, max_length=255)
    cost: Decimal | None = Field(None, ge=0, lt=10**12, allow_inf_nan=False)


class TouchpointBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[TouchpointIn] = Field(min_length=1, max_length=MAX_BATCH)


class TouchpointOut(BaseModel):
    id: uuid.UUID
    contact_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    occurred_at: datetime
    channel: str
    platform: str | None
    type: str | None
    campaign_id: uuid.UUID | None
    content_id: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    cost: Decimal | None


def _touch_out(t: Touchpoint) -> dict[str, Any]:
    return {name: getattr(t, name) for name in TouchpointOut.model_fields}


@router.post("/touchpoints", summary="Record touchpoints (up to 1,000, each with its own result)")
def post_touchpoints(principal: CanWriteEvents, db: Db, body: TouchpointBatch) -> JSON:
    results: list[dict[str, Any]] = []
    for index, item in enumerate(body.items):
        try:
            with db.begin_nested():
                made = touchpoints.build(db, principal.workspace_id, item.model_dump(mode="json"))
                db.flush()
            results.append({"index": index, "status": "created", "id": made.id, "error": None})
        except touchpoints.TouchpointInvalid as exc:
            results.append({"index": index, "status": "error", "id": None, "error": str(exc)})
    db.commit()
    return JSON({"results": results})


@router.get("/touchpoints", summary="A contact's or lead's touchpoints, oldest first")
def get_touchpoints(
    principal: CanReadRecords,
    db: Db,
    contact_id: uuid.UUID | None = None,
    lead_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSON:
    if contact_id is None and lead_id is None:
        raise ApiError(422, "validation_error", "give contact_id or lead_id")
    stmt = select(Touchpoint).where(Touchpoint.workspace_id == principal.workspace_id)
    if contact_id is not None:
        stmt = stmt.where(Touchpoint.contact_id == contact_id)
    if lead_id is not None:
        stmt = stmt.where(Touchpoint.lead_id == lead_id)
    rows = db.scalars(stmt.order_by(Touchpoint.occurred_at, Touchpoint.id).limit(limit))
    return JSON({"items": [_touch_out(t) for t in rows]})


# --- campaigns ---------------------------------------------------------------------


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    channel: str | None = Field(None, max_length=100)
    starts_on: date | None = None
    ends_on: date | None = None
    budget: Decimal | None = Field(None, ge=0, lt=10**14, allow_inf_nan=False)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")


class CampaignPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=255)
    channel: str | None = Field(None, max_length=100)
    starts_on: date | None = None
    ends_on: date | None = None
    budget: Decimal | None = Field(None, ge=0, lt=10**14, allow_inf_nan=False)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")


CAMPAIGN_FIELDS = ("id", "name", "channel", "starts_on", "ends_on", "budget", "currency")


def _campaign_out(c: Campaign, links: dict[uuid.UUID, list[dict[str, Any]]]) -> dict[str, Any]:
    return {**{name: getattr(c, name) for name in CAMPAIGN_FIELDS}, "crm_campaigns": links[c.id]}


def _links(db: Db, workspace_id: uuid.UUID) -> dict[uuid.UUID, list[dict[str, Any]]]:
    return crm_campaigns.links_of(db, workspace_id)


def _one_out(db: Db, c: Campaign) -> dict[str, Any]:
    return _campaign_out(c, crm_campaigns.links_of(db, c.workspace_id, [c.id]))


def _campaign(db: Db, workspace_id: uuid.UUID, campaign_id: uuid.UUID) -> Campaign:
    found = db.get(Campaign, campaign_id)
    if found is None or found.workspace_id != workspace_id:
        raise ApiError(404, "not_found", f"no campaign with id {campaign_id}")
    return found


def _taken(db: Db, workspace_id: uuid.UUID, name: str, other: uuid.UUID | None = None) -> None:
    clash = db.scalar(
        select(Campaign.id).where(Campaign.workspace_id == workspace_id, Campaign.name == name)
    )
    if clash is not None and clash != other:
        raise ApiError(409, "conflict", f"a campaign named {name!r} exists", {"id": str(clash)})


def _check_dates(c: Campaign) -> None:
    if c.starts_on and c.ends_on and c.ends_on < c.starts_on:
        raise ApiError(422, "validation_error", "ends_on is before starts_on")


@router.get("/campaigns", summary="List campaigns")
def list_campaigns(principal: CanReadRecords, db: Db) -> JSON:
    rows = db.scalars(
        select(Campaign)
        .where(Campaign.workspace_id == principal.workspace_id)
        .order_by(Campaign.name)
    )
    links = _links(db, principal.workspace_id)
    return JSON({"items": [_campaign_out(c, links) for c in rows]})


@router.post("/campaigns", status_code=201, summary="Create a campaign")
def create_campaign(principal: CanWriteRecords, db: Db, body: CampaignIn) -> JSON:
    _taken(db, principal.workspace_id, body.name)
    campaign = Campaign(workspace_id=principal.workspace_id, **body.model_dump())
    _check_dates(campaign)
    db.add(campaign)
    db.commit()
    return JSON(_one_out(db, campaign), status_code=201)


@router.get("/campaigns/performance", summary="Conversions, revenue and cost by campaign")
def campaign_performance(
    principal: CanReadRecords,
    db: Db,
    model: ModelQ = Model.LINEAR,
    kind: KindQ = Kind.DEAL_WON,
    start: FromQ = None,
    end: ToQ = None,
    half_life_days: HalfLifeQ = 7.0,
    lookback_days: LookbackQ = 90.0,
) -> JSON:
    options = _options(model, kind, start, end, half_life_days, lookback_days)
    links = _links(db, principal.workspace_id)
    items = [
        {
            **_campaign_out(p.campaign, links),
            "touchpoints": p.touchpoints,
            "conversions": p.conversions,
            "revenue": p.revenue,
            "cost": p.cost,
            "cost_per_conversion": p.cost_per_conversion,
        }
        for p in campaigns.performance(db, principal.workspace_id, options)
    ]
    return JSON({"model": model, "conversion": kind, "items": items})


@router.get("/campaigns/{campaign_id}", summary="One campaign")
def get_campaign(principal: CanReadRecords, db: Db, campaign_id: uuid.UUID) -> JSON:
    return JSON(_one_out(db, _campaign(db, principal.workspace_id, campaign_id)))


@router.patch("/campaigns/{campaign_id}", summary="Change a campaign")
def patch_campaign(
    principal: CanWriteRecords, db: Db, campaign_id: uuid.UUID, body: CampaignPatch
) -> JSON:
    campaign = _campaign(db, principal.workspace_id, campaign_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name") is None:
        changes.pop("name", None)
    if "name" in changes:
        _taken(db, principal.workspace_id, changes["name"], campaign.id)
    for name, value in changes.items():
        setattr(campaign, name, value)
    _check_dates(campaign)
    db.commit()
    return JSON(_one_out(db, campaign))


@router.delete("/campaigns/{campaign_id}", status_code=204, summary="Delete a campaign")
def delete_campaign(principal: CanDeleteRecords, db: Db, campaign_id: uuid.UUID) -> JSON:
    db.delete(_campaign(db, principal.workspace_id, campaign_id))  # touchpoints keep, unlinked
    db.commit()
    return JSON(None, status_code=204)


class CrmRefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    integration_id: uuid.UUID | None = None


@router.post(
    "/campaigns/crm/refresh",
    summary="Read the CRMs' campaigns (HubSpot, Salesforce) and link them to campaigns",
)
def refresh_crm_campaigns(
    principal: CanWriteRecords, db: Db, request: Request, body: CrmRefreshIn | None = None
) -> JSON:
    resolver = targets_of(request.app)

    def connector(integration: Integration) -> Any:
        return resolver.connector(integration)

    report = crm_campaigns.refresh(
        db, principal.workspace_id, connector, integration_id=body.integration_id if body else None
    )
    db.commit()
    return JSON({"linked": report.linked, "created": report.created, "errors": report.errors})


class CrmLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    integration_id: uuid.UUID
    remote_id: str = Field(min_length=1, max_length=100)
    name: str | None = Field(None, max_length=255)


@router.put(
    "/campaigns/{campaign_id}/crm-links",
    summary="Link a CRM campaign (by the CRM's id) to this campaign",
)
def link_crm_campaign(
    principal: CanWriteRecords, db: Db, campaign_id: uuid.UUID, body: CrmLinkIn
) -> JSON:
    campaign = _campaign(db, principal.workspace_id, campaign_id)
    integration = get_integration(db, principal.workspace_id, body.integration_id)
    crm_campaigns.link(db, principal.workspace_id, campaign, integration, body.remote_id, body.name)
    db.commit()
    return JSON(_one_out(db, campaign))


# --- attribution -------------------------------------------------------------------


@router.get(
    "/attribution", summary="Attributed conversions and value by channel, platform or campaign"
)
def get_attribution(
    principal: CanReadRecords,
    db: Db,
    model: ModelQ = Model.LINEAR,
    kind: KindQ = Kind.LEAD_CREATED,
    start: FromQ = None,
    end: ToQ = None,
    group_by: GroupBy = GroupBy.CHANNEL,
    half_life_days: HalfLifeQ = 7.0,
    lookback_days: LookbackQ = 90.0,
) -> JSON:
    options = _options(model, kind, start, end, half_life_days, lookback_days, group_by)
    found = service.report(db, principal.workspace_id, options)
    return JSON(
        {
            "model": model,
            "conversion": kind,
            "group_by": group_by,
            "total_conversions": found.total_conversions,
            "total_value": found.total_value,
            "items": [asdict(row) for row in found.rows],
        }
    )


def _attribution_out(
    found: service.RecordAttribution, crm: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    return {
        "record_id": found.record_id,
        "converted_at": found.converted_at,
        "value": found.value,
        "first_touch_source": found.first_touch,
        "last_touch_source": found.last_touch,
        "attributed_campaign": found.campaign,
        "attributed_campaign_crm": crm.get(found.campaign or "", []),
        "touches": [asdict(c) for c in found.credits],
    }


@router.get(
    "/attribution/{record_type}/{record_id}",
    summary="How one lead (its creation) or one won deal is attributed to its touches",
)
def get_record_attribution(
    principal: CanReadRecords,
    db: Db,
    record_type: Literal["leads", "deals"],
    record_id: uuid.UUID,
    model: ModelQ = Model.LINEAR,
    half_life_days: HalfLifeQ = 7.0,
    lookback_days: LookbackQ = 90.0,
) -> JSON:
    kind = Kind.LEAD_CREATED if record_type == "leads" else Kind.DEAL_WON
    options = _options(model, kind, None, None, half_life_days, lookback_days)
    found = service.record_attributions(db, principal.workspace_id, kind, [record_id], options)
    if record_id not in found:
        what = "lead" if record_type == "leads" else "won deal"
        raise ApiError(404, "not_found", f"no {what} with id {record_id}")
    one = found[record_id]
    crm = crm_campaigns.links_by_name(db, principal.workspace_id, [one.campaign or ""])
    return JSON(_attribution_out(one, crm))


class WriteBackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lead_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BATCH)
    model: Model = Model.LINEAR


@router.post(
    "/integrations/{integration_id}/leads/attribution",
    summary="Attribute leads and write first/last touch and campaign to them, for the CRM",
)
def post_lead_attribution(
    principal: CanWriteRecords, db: Db, integration_id: uuid.UUID, body: WriteBackIn
) -> JSON:
    """Sets the custom fields `first_touch_source`, `last_touch_source` and
    `attributed_campaign` on each lead; map them in the integration's lead mapping to
    send them to the CRM (every integration that pushes leads gets the change)."""
    get_integration(db, principal.workspace_id, integration_id)
    options = service.Options(model=body.model)
    results = service.write_back(db, principal.workspace_id, body.lead_ids, options)
    db.commit()
    return JSON({"results": [asdict(r) for r in results]})
