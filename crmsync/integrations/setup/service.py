"""Setup of one integration: build its context, plan, apply, remove its webhooks.

Functions take the caller's session and never commit. What crmsync registered at the
CRM (webhook ids and the URL they point at) is kept sealed in the integration's
``webhook_secret`` column; credentials it generates (Pipedrive's Basic pair, the REST
CRM's shared secret) and the Salesforce org id are sealed into its credentials.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.config import Settings
from crmsync.connectors.base import Connector
from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.http import ConnectorHttp
from crmsync.integrations.config import SyncConfig
from crmsync.integrations.connection import Wiring, connector_for
from crmsync.integrations.keys import vault_for
from crmsync.integrations.service import credentials_of, seal_credentials
from crmsync.integrations.setup.context import ProviderSetup, SetupContext
from crmsync.integrations.setup.generic import GenericSetup
from crmsync.integrations.setup.hubspot import HubSpotSetup
from crmsync.integrations.setup.model import (
    ItemResult,
    ItemState,
    Outcome,
    SetupItem,
    SetupPlan,
    SetupReport,
)
from crmsync.integrations.setup.needs import field_needs
from crmsync.integrations.setup.pipedrive import PipedriveSetup
from crmsync.integrations.setup.salesforce import SalesforceSetup
from crmsync.integrations.vault import Vault, VaultError
from crmsync.records.errors import RecordConflict, RecordInvalid
from crmsync.store.models import Integration, IntegrationStatus, WebhookEvent
from crmsync.sync.targets import mapping_for

__all__ = [
    "PARTS",
    "apply",
    "manual_checks",
    "plan",
    "remove_webhooks",
    "reregister",
    "reregister_all",
    "webhook_url",
]

log = structlog.get_logger("crmsync.integrations.setup")

PARTS: dict[str, ProviderSetup] = {
    "hubspot": HubSpotSetup(),
    "salesforce": SalesforceSetup(),
    "pipedrive": PipedriveSetup(),
    "generic": GenericSetup(),
}
# answers that mean "it is there already" (a plan raced by another setup, or an admin)
_ALREADY = frozenset({"OBJECT_ALREADY_EXISTS", "DUPLICATE_DEVELOPER_NAME"})


def webhook_url(settings: Settings, integration: Integration) -> str:
    """Where the CRM delivers this integration's changes (Salesforce: Outbound Messages)."""
    base = (
        f"{settings.base_url.rstrip('/')}/api/v1/webhooks/{integration.provider}/{integration.id}"
    )
    return f"{base}/outbound-messages" if integration.provider == "salesforce" else base


def _part(integration: Integration) -> ProviderSetup:
    part = PARTS.get(integration.provider)
    if part is None:
        raise RecordInvalid(
            f"setup is not available for {integration.provider} integrations",
            {"available": sorted(PARTS)},
        )
    return part


def _http(connector: Connector) -> ConnectorHttp:
    client = getattr(connector, "client", None)
    http = getattr(client, "http", None) or getattr(connector, "http", None)
    if not isinstance(http, ConnectorHttp):
        raise RecordInvalid(f"setup is not available for {connector.provider} integrations")
    return http


def _registrations(vault: Vault, integration: Integration) -> dict[str, Any]:
    if not integration.webhook_secret:
        return {}
    try:
        return dict(
            vault.decrypt_json(
                integration.webhook_secret.decode(),
                workspace_id=integration.workspace_id,
                integration_id=integration.id,
            )
        )
    except VaultError:
        return {}


def _seal_registrations(vault: Vault, integration: Integration, values: dict[str, Any]) -> None:
    token = vault.encrypt_json(
        values, workspace_id=integration.workspace_id, integration_id=integration.id
    )
    integration.webhook_secret = token.encode()


def _received(session: Session, integration: Integration) -> bool:
    found = session.scalar(
        select(WebhookEvent.id)
        .where(WebhookEvent.integration_id == integration.id, WebhookEvent.verified.is_(True))
        .limit(1)
    )
    return found is not None


def _context(
    session: Session,
    integration: Integration,
    vault: Vault,
    settings: Settings,
    wiring: Wiring | None,
) -> SetupContext:
    config = SyncConfig.model_validate(integration.config or {})
    connector = connector_for(integration, vault, settings, wiring)
    objects = [o for o in config.objects if o in connector.capabilities.objects]
    stored = _registrations(vault, integration)
    return SetupContext(
        integration_id=integration.id,
        provider=integration.provider,
        connector=connector,
        http=_http(connector),
        needs=field_needs(mapping_for(session, integration), objects),
        objects=objects,
        webhook_url=webhook_url(settings, integration),
        credentials=dict(credentials_of(vault, integration)),
        registrations=dict(stored.get("registrations") or {}),
        received_webhook=_received(session, integration),
        config=integration.config or {},
    )


def plan(
    session: Session,
    integration: Integration,
    vault: Vault,
    settings: Settings,
    wiring: Wiring | None = None,
) -> SetupPlan:
    """What the integration needs in the CRM and where each item stands (reads only)."""
    part = _part(integration)
    ctx = _context(session, integration, vault, settings, wiring)
    try:
        return SetupPlan(integration.provider, tuple(part.plan(ctx)), ctx.webhook_url)
    finally:
        ctx.connector.close()


def apply(
    session: Session,
    integration: Integration,
    vault: Vault,
    settings: Settings,
    wiring: Wiring | None = None,
    *,
    dry_run: bool = False,
) -> SetupReport:
    """Create what is missing, item by item; a failed item does not stop the others.
    ``dry_run``: report what would be created (``created`` reads as "would create")."""
    part = _part(integration)
    ctx = _context(session, integration, vault, settings, wiring)
    before = dict(ctx.credentials)
    results: list[ItemResult] = []
    try:
        for item in part.plan(ctx):
            results.append(_apply_one(part, ctx, item, dry_run))
    finally:
        ctx.connector.close()
    if not dry_run:
        if ctx.credentials != before:
            seal_credentials(vault, integration, ctx.credentials)
        _seal_registrations(
            vault, integration, {"url": ctx.webhook_url, "registrations": ctx.registrations}
        )
        session.flush()
    return SetupReport(integration.provider, tuple(results))


def _apply_one(
    part: ProviderSetup, ctx: SetupContext, item: SetupItem, dry_run: bool
) -> ItemResult:
    if item.state is ItemState.PRESENT:
        return ItemResult(item, Outcome.EXISTS)
    if item.state is ItemState.MANUAL:
        return ItemResult(item, Outcome.MANUAL)
    if dry_run:
        return ItemResult(item, Outcome.CREATED, "dry run: would create")
    try:
        part.create(ctx, item)
    except ConnectorError as exc:
        if exc.status == 409 or exc.code in _ALREADY:
            return ItemResult(item, Outcome.EXISTS, exc.message)
        log.warning("setup item failed", item=item.key, error=exc.message)
        return ItemResult(item, Outcome.FAILED, exc.message)
    return ItemResult(item, Outcome.CREATED)


def remove_webhooks(
    integration: Integration, vault: Vault, settings: Settings, wiring: Wiring | None = None
) -> list[str]:
    """Delete the webhooks crmsync registered at the CRM (before the integration goes).
    Best effort: a CRM that cannot be reached is logged, and the deletion goes on."""
    part = PARTS.get(integration.provider)
    stored = _registrations(vault, integration)
    if part is None or not stored.get("registrations"):
        return []
    try:
        connector = connector_for(integration, vault, settings, wiring)
    except (ConnectorError, RecordInvalid, VaultError) as exc:
        log.warning("webhooks not removed", integration=str(integration.id), error=str(exc))
        return []
    ctx = SetupContext(
        integration_id=integration.id,
        provider=integration.provider,
        connector=connector,
        http=_http(connector),
        needs=[],
        objects=[],
        webhook_url=webhook_url(settings, integration),
        credentials=dict(credentials_of(vault, integration)),
        registrations=dict(stored.get("registrations") or {}),
    )
    try:
        return part.remove(ctx)
    except ConnectorError as exc:
        log.warning("webhooks not removed", integration=str(integration.id), error=exc.message)
        return []
    finally:
        connector.close()


def reregister(
    session: Session,
    integration: Integration,
    vault: Vault,
    settings: Settings,
    wiring: Wiring | None = None,
) -> SetupReport | None:
    """Apply setup again when the webhooks crmsync registered point at an old public URL
    (``CRMSYNC_BASE_URL`` changed); None when nothing was registered or the URL holds."""
    stored = _registrations(vault, integration)
    if not stored.get("registrations") or stored.get("url") == webhook_url(settings, integration):
        return None
    return apply(session, integration, vault, settings, wiring)


def reregister_all(
    sessions: sessionmaker[Session], settings: Settings, wiring: Wiring | None = None
) -> int:
    """At startup: re-register, integration by integration, the webhooks that point at
    an old public URL. Commits per integration; a CRM that fails is logged and skipped.
    Returns how many integrations were re-registered."""
    vault = vault_for(settings)
    with sessions() as session:
        ids = list(
            session.scalars(
                select(Integration.id).where(
                    Integration.webhook_secret.is_not(None),
                    Integration.status == IntegrationStatus.CONNECTED,
                )
            )
        )
    done = 0
    for integration_id in ids:
        with sessions() as session:
            integration = session.get(Integration, integration_id)
            if integration is None:
                continue
            try:
                report = reregister(session, integration, vault, settings, wiring)
            except (ConnectorError, RecordInvalid, VaultError) as exc:
                log.warning(
                    "webhooks not re-registered", integration=str(integration_id), error=str(exc)
                )
                session.rollback()
                continue
            if report is not None:
                session.commit()
                done += 1
    return done


def manual_checks(session: Session, integration: Integration, vault: Vault) -> list[dict[str, Any]]:
    """The manual setup steps of the integration and whether they were done, for
    ``/test``: a webhook only an admin can turn on counts as done once a verified
    delivery of it has arrived (nothing else proves it from outside the CRM)."""
    try:
        credentials = credentials_of(vault, integration)
    except RecordConflict:  # unreadable credentials: /test already says so
        return []
    received = _received(session, integration)
    wanted: list[tuple[str, str]] = []
    if integration.provider == "hubspot" and not (
        credentials.get("app_id") and credentials.get("developer_api_key")
    ):
        wanted.append(("private-app-webhooks", "the private app's webhook subscriptions"))
    if integration.provider == "salesforce":
        if not credentials.get("org_id"):
            wanted.append(("organization-id", "run setup: it reads the org id"))
        wanted.append(("flow", "a flow or rule that sends crmsync's Outbound Message"))
    out = []
    for name, what in wanted:
        done = received if name != "organization-id" else False
        detail = "a verified delivery has arrived" if done else f"not done yet: {what}"
        out.append({"item": name, "done": done, "detail": detail})
    return out
