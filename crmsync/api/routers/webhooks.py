"""``POST /api/v1/webhooks/{provider}/{integration_id}``: where CRMs deliver changes.

Authenticated by the provider's own scheme (HubSpot v3 signature within 5 minutes,
Pipedrive Basic credentials, Total Expert shared secret, generic ``X-CRM-Secret``), not
by an API key: a CRM has none. A delivery that fails verification stores nothing.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crmsync.api.deps import Db
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.connectors.errors import ConnectorError
from crmsync.store.models import Integration
from crmsync.sync.targets import targets_of
from crmsync.sync.webhooks import Received, WebhookRejected, receive

router = APIRouter(prefix=f"{API_PREFIX}/webhooks", tags=["webhooks"])


@router.post("/{provider}/{integration_id}", summary="Receive a CRM's webhook delivery")
async def receive_webhook(
    request: Request, provider: str, integration_id: uuid.UUID, db: Db
) -> JSON:
    body = await request.body()
    received = await run_in_threadpool(
        _store, request, db, provider, integration_id, dict(request.headers), body
    )
    return JSON({"stored": received.stored, "replayed": received.replayed})


def _store(
    request: Request,
    db: Session,
    provider: str,
    integration_id: uuid.UUID,
    headers: dict[str, str],
    body: bytes,
) -> Received:
    integration = db.get(Integration, integration_id)
    if integration is None or integration.provider != provider:
        raise ApiError(404, "not_found", f"no {provider} integration {integration_id}")
    try:
        connector = targets_of(request.app).connector(integration)
        received = receive(db, integration, connector, headers, body)
    except WebhookRejected as exc:
        raise ApiError(401, "unauthorized", str(exc)) from None
    except ConnectorError as exc:
        raise ApiError(400, "bad_request", f"delivery not understood: {exc.message}") from None
    db.commit()
    return received
