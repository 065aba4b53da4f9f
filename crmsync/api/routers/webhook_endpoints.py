"""``/api/v1/webhook-endpoints``: where crmsync tells the host app what happened.

Managing endpoints and reading their deliveries needs ``integrations:manage`` (manager
and admin): deliveries carry the events' payloads.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from crmsync.api.deps import Db, require
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.auth.keys import Principal
from crmsync.auth.permissions import Permission
from crmsync.config import Settings
from crmsync.connectors.http.guard import UnsafeURL
from crmsync.integrations.keys import vault_for
from crmsync.outbound.webhooks import delivery, endpoints
from crmsync.store.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

router = APIRouter(
    route_class=GuardedRoute, prefix=f"{API_PREFIX}/webhook-endpoints", tags=["webhook endpoints"]
)
CanManage = Annotated[Principal, Depends(require(Permission.INTEGRATIONS_MANAGE))]
EventType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", max_length=100)]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, description="https on a public host")
    event_types: list[EventType] = Field(
        default_factory=list, max_length=100, description="empty: every event type"
    )
    description: str | None = Field(None, max_length=255)


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(None, max_length=2000)
    event_types: list[EventType] | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=255)
    enabled: bool | None = None


class RangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


FIELDS = ("id", "url", "description", "event_types", "enabled", "disabled_reason", "created_at")
DELIVERY_FIELDS = (
    "id",
    "event_id",
    "event_type",
    "key",
    "status",
    "attempts",
    "next_attempt_at",
    "last_status_code",
    "last_error",
    "delivered_at",
    "replay_of",
    "created_at",
)


def _out(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    out = {name: getattr(endpoint, name) for name in FIELDS}
    if secret is not None:
        out["secret"] = secret  # shown once: when made or rotated
    return out


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _endpoint(db: Db, principal: Principal, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    try:
        return endpoints.get(db, principal.workspace_id, endpoint_id)
    except endpoints.EndpointNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None


def _checked_url(url: str, settings: Settings) -> str:
    try:
        return endpoints.check_endpoint_url(url, sandbox_mode=settings.sandbox_mode)
    except UnsafeURL as exc:
        raise ApiError(422, "validation_error", f"url: {exc}") from None


@router.get("", summary="List webhook endpoints")
def list_endpoints(principal: CanManage, db: Db) -> JSON:
    rows = db.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.workspace_id == principal.workspace_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return JSON({"items": [_out(e) for e in rows]})


@router.post("", status_code=201, summary="Add an endpoint; its signing secret is shown once")
def create_endpoint(principal: CanManage, db: Db, request: Request, body: EndpointIn) -> JSON:
    settings = _settings(request)
    url = _checked_url(body.url, settings)
    made, secret = endpoints.create(
        db,
        vault_for(settings),
        principal.workspace_id,
        url,
        body.event_types,
        body.description,
        sandbox_mode=settings.sandbox_mode,
    )
    db.commit()
    return JSON(_out(made, secret), status_code=201)


@router.get("/{endpoint_id}", summary="One webhook endpoint")
def get_endpoint(principal: CanManage, db: Db, endpoint_id: uuid.UUID) -> JSON:
    return JSON(_out(_endpoint(db, principal, endpoint_id)))


@router.patch("/{endpoint_id}", summary="Change an endpoint, or enable a disabled one")
def patch_endpoint(
    principal: CanManage, db: Db, request: Request, endpoint_id: uuid.UUID, body: EndpointPatch
) -> JSON:
    endpoint = _endpoint(db, principal, endpoint_id)
    if body.url is not None:
        endpoint.url = _checked_url(body.url, _settings(request))
    if body.event_types is not None:
        endpoint.event_types = sorted(set(body.event_types))
    if body.description is not None:
        endpoint.description = body.description
    if body.enabled is True:
        endpoints.enable(endpoint)
    elif body.enabled is False:
        endpoints.disable(endpoint, endpoints.BY_A_USER)
    db.commit()
    return JSON(_out(endpoint))


@router.delete("/{endpoint_id}", status_code=204, summary="Remove an endpoint")
def delete_endpoint(principal: CanManage, db: Db, endpoint_id: uuid.UUID) -> JSON:
    db.delete(_endpoint(db, principal, endpoint_id))
    db.commit()
    return JSON(None, status_code=204)


@router.post("/{endpoint_id}/rotate-secret", summary="A new signing secret, shown once")
def rotate_secret(principal: CanManage, db: Db, request: Request, endpoint_id: uuid.UUID) -> JSON:
    endpoint = _endpoint(db, principal, endpoint_id)
    secret = endpoints.rotate_secret(vault_for(_settings(request)), endpoint)
    db.commit()
    return JSON(_out(endpoint, secret))


@router.get("/{endpoint_id}/deliveries", summary="The endpoint's delivery log, newest first")
def list_deliveries(
    principal: CanManage,
    db: Db,
    endpoint_id: uuid.UUID,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(description="page: deliveries with a smaller id")] = None,
) -> JSON:
    endpoint = _endpoint(db, principal, endpoint_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    if before is not None:
        stmt = stmt.where(WebhookDelivery.id < before)
    rows = list(db.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)))
    return JSON(
        {
            "items": [{n: getattr(d, n) for n in DELIVERY_FIELDS} for d in rows],
            "next_before": rows[-1].id if len(rows) == limit else None,
        }
    )


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    summary="Send one delivery's event again",
)
def replay_delivery(principal: CanManage, db: Db, endpoint_id: uuid.UUID, delivery_id: int) -> JSON:
    endpoint = _endpoint(db, principal, endpoint_id)
    found = db.get(WebhookDelivery, delivery_id)
    if found is None or found.endpoint_id != endpoint.id:
        raise ApiError(404, "not_found", f"no delivery {delivery_id} of this endpoint")
    again = delivery.replay(db, found)
    db.commit()
    return JSON({n: getattr(again, n) for n in DELIVERY_FIELDS}, status_code=202)


@router.post(
    "/{endpoint_id}/replay",
    status_code=202,
    summary="Send again every event of a time range the endpoint takes",
)
def replay_range(principal: CanManage, db: Db, endpoint_id: uuid.UUID, body: RangeIn) -> JSON:
    if body.start.tzinfo is None or body.end.tzinfo is None or body.start >= body.end:
        raise ApiError(422, "validation_error", "from and to need offsets, and from < to")
    endpoint = _endpoint(db, principal, endpoint_id)
    count = delivery.replay_range(db, endpoint, body.start, body.end)
    db.commit()
    return JSON({"replayed": count}, status_code=202)
