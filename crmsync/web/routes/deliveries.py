"""One webhook endpoint's delivery log, with replay of one delivery or of a time range,
for those who manage integrations (as ``/api/v1/webhook-endpoints``: an endpoint says
where the workspace's data goes). A range is read as UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from crmsync.outbound.webhooks import delivery, endpoints
from crmsync.store.models import WebhookEndpoint
from crmsync.web import logs
from crmsync.web.deps import Db
from crmsync.web.guard import IntegrationManager, WebProblem, WebRoute
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX
from crmsync.web.sessions import SignedIn

router = APIRouter(
    route_class=WebRoute, prefix=f"{UI_PREFIX}/automation/endpoints", include_in_schema=False
)


def _endpoint(db: Db, user: SignedIn, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    try:
        return endpoints.get(db, user.workspace_id, endpoint_id)
    except endpoints.EndpointNotFound as exc:
        raise WebProblem(404, str(exc)) from None


def _here(endpoint: WebhookEndpoint) -> str:
    return f"{UI_PREFIX}/automation/endpoints/{endpoint.id}"


@router.get("/{endpoint_id}")
def endpoint_page(
    request: Request,
    user: IntegrationManager,
    db: Db,
    endpoint_id: uuid.UUID,
    status: str | None = None,
) -> Response:
    endpoint = _endpoint(db, user, endpoint_id)
    if status not in (None, "", *logs.DELIVERY_STATUSES):
        raise WebProblem(422, f"status: one of {', '.join(logs.DELIVERY_STATUSES)}")
    found = logs.deliveries(db, user.workspace_id, endpoint.id, status or None)
    context = {
        "endpoint": endpoint,
        "deliveries": found,
        "status": status or "",
        "statuses": logs.DELIVERY_STATUSES,
        "limit": logs.PAGE,
    }
    return page(request, "endpoint.html", context)


@router.post("/{endpoint_id}/deliveries/{delivery_id}/replay")
def replay_one(
    user: IntegrationManager, db: Db, endpoint_id: uuid.UUID, delivery_id: int
) -> Response:
    endpoint = _endpoint(db, user, endpoint_id)
    found = logs.delivery(db, user.workspace_id, endpoint.id, delivery_id)
    if found is None:
        raise WebProblem(404, f"No delivery {delivery_id} of this endpoint.")
    again = delivery.replay(db, found)
    db.commit()
    said = "is due now" if again.id == found.id else f"goes again as delivery {again.id}"
    return redirect(_here(endpoint), f"Delivery {delivery_id} ({found.event_type}) {said}.")


def _utc(value: str, name: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise WebProblem(422, f"{name}: a date and time such as 2026-12-05T14:00") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@router.post("/{endpoint_id}/replay")
def replay_range(
    user: IntegrationManager,
    db: Db,
    endpoint_id: uuid.UUID,
    start: Annotated[str, Form(alias="from", max_length=40)],
    end: Annotated[str, Form(alias="to", max_length=40)],
) -> Response:
    endpoint = _endpoint(db, user, endpoint_id)
    first, last = _utc(start, "from"), _utc(end, "to")
    if first >= last:
        raise WebProblem(422, "from must be before to")
    count = delivery.replay_range(db, endpoint, first, last)
    db.commit()
    return redirect(_here(endpoint), f"{count} events of that time go again.")
