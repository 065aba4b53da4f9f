"""``/api/v1/integrations``: connected CRM accounts, their test, fields and token refresh.

Credentials go in, never out: answers show them masked.
"""

import uuid
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import object_session

from crmsync.api.deps import Db, require
from crmsync.api.errors import ApiError
from crmsync.api.responses import JSON
from crmsync.api.routers import API_PREFIX
from crmsync.api.routing import GuardedRoute
from crmsync.auth.keys import Principal
from crmsync.auth.permissions import Permission
from crmsync.config import Settings
from crmsync.connectors.errors import AuthError, ConfigError, ConnectorError
from crmsync.integrations import connection, service
from crmsync.integrations.keys import vault_for
from crmsync.integrations.schemas import IntegrationCreate, IntegrationPatch, integration_out
from crmsync.integrations.setup import service as setup
from crmsync.integrations.vault import Vault
from crmsync.store.models import Integration
from crmsync.sync import health

CanRead = Annotated[Principal, Depends(require(Permission.INTEGRATIONS_READ))]
CanManage = Annotated[Principal, Depends(require(Permission.INTEGRATIONS_MANAGE))]

router = APIRouter(
    route_class=GuardedRoute, prefix=f"{API_PREFIX}/integrations", tags=["integrations"]
)


def settings_of(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def wiring_of(request: Request) -> connection.Wiring:
    """How connectors reach the network (tests may set ``app.state.connector_wiring``)."""
    wiring = getattr(request.app.state, "connector_wiring", None)
    return wiring if isinstance(wiring, connection.Wiring) else connection.Wiring()


def out(
    vault: Vault, integration: Integration, summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The masked answer for one integration; unreadable credentials show as ``null``."""
    try:
        credentials = service.credentials_of(vault, integration)
    except service.CredentialsUnreadable:
        credentials = None
    if summary is None:
        db = object_session(integration)
        summary = health.summaries(db, [integration])[integration.id] if db else None
    return integration_out(integration, credentials, summary)


@router.get("", summary="List integrations")
def list_(principal: CanRead, db: Db, request: Request) -> JSON:
    vault = vault_for(settings_of(request))
    found = service.list_integrations(db, principal.workspace_id)
    shown = health.summaries(db, found)
    return JSON({"items": [out(vault, i, shown[i.id]) for i in found]})


@router.post("", status_code=201, summary="Create an integration")
def create(principal: CanManage, db: Db, request: Request, body: IntegrationCreate) -> JSON:
    """Credentials are checked for the provider, encrypted, and never returned."""
    settings = settings_of(request)
    vault = vault_for(settings)
    integration = service.create_integration(
        db, vault, principal.workspace_id, body, sandbox_mode=settings.sandbox_mode
    )
    db.commit()
    return JSON(out(vault, integration), status_code=201)


@router.get("/{integration_id}", summary="Get an integration")
def get(principal: CanRead, db: Db, request: Request, integration_id: uuid.UUID) -> JSON:
    vault = vault_for(settings_of(request))
    return JSON(out(vault, service.get_integration(db, principal.workspace_id, integration_id)))


@router.patch("/{integration_id}", summary="Change an integration")
def patch(
    principal: CanManage,
    db: Db,
    request: Request,
    integration_id: uuid.UUID,
    body: IntegrationPatch,
) -> JSON:
    """Only the fields sent change; `credentials` replaces all stored credentials."""
    settings = settings_of(request)
    vault = vault_for(settings)
    integration = service.get_integration(db, principal.workspace_id, integration_id)
    service.update_integration(db, vault, integration, body, sandbox_mode=settings.sandbox_mode)
    db.commit()
    return JSON(out(vault, integration))


@router.delete("/{integration_id}", status_code=204, summary="Delete an integration")
def delete(principal: CanManage, db: Db, request: Request, integration_id: uuid.UUID) -> None:
    """The webhooks crmsync registered at the CRM are removed first (best effort)."""
    integration = service.get_integration(db, principal.workspace_id, integration_id)
    settings = settings_of(request)
    setup.remove_webhooks(integration, vault_for(settings), settings, wiring_of(request))
    service.delete_integration(db, integration)
    db.commit()


@router.post("/{integration_id}/test", summary="Check the CRM accepts the credentials")
def test(principal: CanManage, db: Db, request: Request, integration_id: uuid.UUID) -> JSON:
    """`{"ok", "message", "setup"}`; refused credentials turn the integration
    `needs_auth`; `setup` (when there are any) lists the manual setup steps and whether
    each was done."""
    settings = settings_of(request)
    integration = service.get_integration(db, principal.workspace_id, integration_id)
    vault = vault_for(settings)
    ok, message = connection.test(integration, vault, settings, wiring_of(request))
    checks = setup.manual_checks(db, integration, vault)
    db.commit()
    return JSON({"ok": ok, "message": message} | ({"setup": checks} if checks else {}))


@router.get("/{integration_id}/fields", summary="Remote fields of an object type")
def fields(
    principal: CanRead,
    db: Db,
    request: Request,
    integration_id: uuid.UUID,
    object_type: Annotated[str, Query(alias="object", max_length=40)] = "contacts",
) -> JSON:
    """Every field the CRM has on `object`, custom fields included."""
    settings = settings_of(request)
    integration = service.get_integration(db, principal.workspace_id, integration_id)
    try:
        found = connection.fields(
            integration, vault_for(settings), settings, object_type, wiring_of(request)
        )
    except AuthError:
        db.commit()  # keep the needs_auth status
        raise ApiError(409, "needs_auth", str(integration.last_error)) from None
    except ConfigError as exc:  # an object type the CRM does not have: the caller's mistake
        raise ApiError(422, "validation_error", exc.message, {"class": exc.kind}) from None
    except ConnectorError as exc:
        raise ApiError(502, "provider_error", exc.message, {"class": exc.kind}) from None
    db.commit()  # renewed tokens
    return JSON(
        {
            "object": object_type,
            "fields": [asdict(f) for f in found],
        }
    )


@router.post("/{integration_id}/refresh", summary="Renew the OAuth access token now")
def refresh(principal: CanManage, db: Db, request: Request, integration_id: uuid.UUID) -> JSON:
    """`{"ok", "message", "integration"}`; a refused refresh turns it `needs_auth`."""
    settings = settings_of(request)
    vault = vault_for(settings)
    integration = service.get_integration(db, principal.workspace_id, integration_id)
    ok, message = connection.refresh(integration, vault, settings, wiring_of(request))
    db.commit()
    return JSON({"ok": ok, "message": message, "integration": out(vault, integration)})
