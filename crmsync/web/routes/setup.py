"""An integration's CRM-side setup: what it needs in the CRM (custom fields, property
groups, external-id fields, webhooks) and where each item stands, and creating what is
missing, through the same service as ``/api/v1/integrations/{id}/setup``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response

from crmsync.config import Settings
from crmsync.connectors.errors import AuthError
from crmsync.integrations import service
from crmsync.integrations.keys import vault_for
from crmsync.integrations.setup import service as setup
from crmsync.integrations.vault import Vault
from crmsync.store.models import Integration
from crmsync.web.deps import Db, settings_of, wiring_of
from crmsync.web.guard import IntegrationManager, IntegrationReader, WebProblem, WebRoute
from crmsync.web.render import page
from crmsync.web.routes import UI_PREFIX
from crmsync.web.sessions import SignedIn

router = APIRouter(
    route_class=WebRoute, prefix=f"{UI_PREFIX}/integrations", include_in_schema=False
)
T = TypeVar("T")


def _talking(db: Db, integration: Integration, call: Callable[[], T]) -> T:
    """A call to the CRM; refused credentials mark the integration for reconnecting."""
    try:
        return call()
    except AuthError as exc:
        service.mark_needs_auth(integration, exc.message, oauth=False)
        db.commit()
        raise WebProblem(
            409, f"The CRM refused the credentials: {integration.last_error}"
        ) from None


def _answer(
    request: Request,
    user: SignedIn,
    db: Db,
    integration_id: uuid.UUID,
    call: Callable[[Integration, Vault, Settings], Any],
    key: str,
) -> Response:
    """Run ``call`` (plan or apply) on the integration; the page shows its answer."""
    settings = settings_of(request)
    integration = service.get_integration(db, user.workspace_id, integration_id)
    found = _talking(db, integration, lambda: call(integration, vault_for(settings), settings))
    db.commit()  # renewed tokens, registrations
    return page(request, "setup.html", {"integration": integration, key: found.to_json()})


@router.get("/{integration_id}/setup")
def setup_page(
    request: Request, user: IntegrationReader, db: Db, integration_id: uuid.UUID
) -> Response:
    wiring = wiring_of(request)
    return _answer(
        request, user, db, integration_id,
        lambda i, vault, settings: setup.plan(db, i, vault, settings, wiring), "plan",
    )  # fmt: skip


@router.post("/{integration_id}/setup")
def apply_setup(
    request: Request, user: IntegrationManager, db: Db, integration_id: uuid.UUID
) -> Response:
    """Idempotent: a second run creates nothing. The report is the answer itself."""
    wiring = wiring_of(request)
    return _answer(
        request, user, db, integration_id,
        lambda i, vault, settings: setup.apply(db, i, vault, settings, wiring), "report",
    )  # fmt: skip
