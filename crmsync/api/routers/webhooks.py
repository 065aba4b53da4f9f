"""``POST /api/v1/webhooks/{provider}/{integration_id}``: where CRMs deliver changes.

Deliveries over an integration's ``config.webhook_rate_limit`` (e.g. 50 per 10 s) are
answered 429 with ``Retry-After`` before anything is verified or stored.

Authenticated by the provider's own scheme (HubSpot v3 signature within 5 minutes,
Pipedrive Basic credentials, Total Expert shared secret, generic ``X-CRM-Secret``,
Salesforce Outbound Messages by their organisation id), not
by an API key: a CRM has none. A delivery that fails verification stores nothing; one
that passes is answered once its events are committed (with the other deliveries that
arrived meanwhile, in one transaction).
"""

from __future__ import annotations

import asyncio
import math
import threading
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.http.sharing import shared_state
from crmsync.connectors.salesforce import webhooks as salesforce_webhooks
from crmsync.sync.targets import targets_of
from crmsync.sync.webhooks import (
    UnknownIntegration,
    WebhookMalformed,
    WebhookReceiver,
    WebhookRejected,
    WebhookThrottled,
)

router = APIRouter(route_class=GuardedRoute, prefix=f"{API_PREFIX}/webhooks", tags=["webhooks"])

_LOCK = threading.Lock()


def receiver_of(app: Any) -> WebhookReceiver:
    """The app's receiver, made on first use and closed (its queue written) at shutdown."""
    state = app.state
    with _LOCK:
        if getattr(state, "webhooks", None) is None:
            windows = shared_state(state.settings.redis_url).windows()
            state.webhooks = WebhookReceiver(
                state.sessionmaker, targets_of(app).connector, windows=windows
            )
        receiver: WebhookReceiver = state.webhooks
        return receiver


def close_receiver(app: Any) -> None:
    with _LOCK:
        receiver = getattr(app.state, "webhooks", None)
        app.state.webhooks = None
    if receiver is not None:
        receiver.close()


@router.post("/{provider}/{integration_id}", summary="Receive a CRM's webhook delivery")
async def receive_webhook(request: Request, provider: str, integration_id: uuid.UUID) -> JSON:
    body = await request.body()
    receiver = receiver_of(request.app)
    try:
        stored = await run_in_threadpool(
            receiver.accept, provider, integration_id, dict(request.headers), body
        )
    except UnknownIntegration as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except WebhookThrottled as exc:  # config.webhook_rate_limit; the CRM delivers again
        retry = str(max(1, math.ceil(exc.retry_after)))
        raise HTTPException(429, str(exc), headers={"Retry-After": retry}) from None
    except WebhookRejected as exc:
        raise ApiError(401, "unauthorized", str(exc)) from None
    except WebhookMalformed as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    except ConnectorError as exc:
        raise ApiError(400, "bad_request", f"delivery not understood: {exc.message}") from None
    try:
        received = await asyncio.wrap_future(stored)
    except UnknownIntegration as exc:  # removed between its lookup and the insert
        receiver.forget(integration_id)
        raise ApiError(404, "not_found", str(exc)) from None
    return JSON({"stored": received.stored, "replayed": received.replayed})


@router.post(
    "/salesforce/{integration_id}/outbound-messages",
    summary="Receive a Salesforce Outbound Message (SOAP)",
    response_class=Response,
    responses={200: {"content": {"text/xml": {}}, "description": "the SOAP acknowledgement"}},
)
async def receive_outbound_message(request: Request, integration_id: uuid.UUID) -> Response:
    """Accepted only when its ``OrganizationId`` is the integration's org; the
    ``<Ack>true</Ack>`` is answered once its notifications are stored, so Salesforce
    retries anything not stored. Polling still runs beside it."""
    body = await request.body()
    if len(body) > salesforce_webhooks.MAX_BYTES:
        raise ApiError(413, "payload_too_large", "an Outbound Message is at most 4 MB")
    await receive_webhook(request, "salesforce", integration_id)
    return Response(salesforce_webhooks.ACK, media_type="text/xml; charset=utf-8")
