"""Integrations: create, read, change and delete, with credentials sealed by the vault.

Functions take the caller's session and never commit. Another workspace's integration
is ``RecordNotFound``, the same answer as one that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.http.guard import Resolver, UnsafeURL, check_url, system_resolver
from crmsync.connectors.http.profiles import profiles
from crmsync.connectors.http.secret import SecretDict
from crmsync.connectors.spec import ProviderSpec
from crmsync.errors import Unavailable
from crmsync.integrations import connector_config, objects
from crmsync.integrations.config import SyncConfig
from crmsync.integrations.providers import check_credentials, provider
from crmsync.integrations.schemas import IntegrationCreate, IntegrationPatch
from crmsync.integrations.vault import Vault, VaultError
from crmsync.records.errors import RecordInvalid, RecordNotFound
from crmsync.store.base import new_id
from crmsync.store.models import Integration, IntegrationStatus

__all__ = [
    "create_integration",
    "credentials_of",
    "delete_integration",
    "get_integration",
    "list_integrations",
    "mark_connected",
    "mark_needs_auth",
    "safe_base_url",
    "seal_credentials",
    "update_integration",
]


class CredentialsUnreadable(Unavailable):
    """Stored credentials that no configured key decrypts: crmsync cannot use them until
    the key is given back or new credentials are sent."""


UNREADABLE = (
    "the stored credentials do not decrypt with the configured keys: add the key they were "
    "made with to CRMSYNC_PREVIOUS_SECRET_KEYS, or send new credentials"
)


def safe_base_url(spec: ProviderSpec, base_url: str | None, *, sandbox_mode: bool) -> str:
    """The integration's base URL, defaulted and through the SSRF guard."""
    url = (base_url or spec.api_url or "").rstrip("/")
    if not url:
        raise RecordInvalid(f"{spec.name} integrations need a base_url")
    if url == spec.api_url:
        return url  # the provider's own API: a constant, not user input
    try:
        check_url(url, spec.name, sandbox_mode=sandbox_mode)
    except UnsafeURL as exc:
        raise RecordInvalid(f"base_url refused: {exc.message}", {"field": "base_url"}) from None
    return url


# Credentials that name where the API lives (from a token response, or typed in by a user)
# are URLs crmsync will connect to: they pass the same guard as base_url.
URL_CREDENTIALS = ("instance_url", "api_domain")


def check_credential_urls(
    spec: ProviderSpec,
    credentials: Mapping[str, Any],
    *,
    sandbox_mode: bool,
    resolve: Resolver = system_resolver,
) -> None:
    for key in URL_CREDENTIALS:
        value = credentials.get(key)
        if value is None:
            continue
        try:
            check_url(str(value), spec.name, sandbox_mode=sandbox_mode, resolve=resolve)
        except UnsafeURL as exc:
            raise RecordInvalid(
                f"credentials.{key} refused: {exc.message}", {"field": f"credentials.{key}"}
            ) from None


def _check_profile(name: str | None) -> None:
    if name is not None and name not in profiles():
        known = sorted(profiles())
        raise RecordInvalid(f"unknown rate_limit_profile {name!r}", {"known": known})


def seal_credentials(vault: Vault, integration: Integration, values: Mapping[str, Any]) -> None:
    """Encrypt ``values`` into the integration's row, bound to it and its workspace."""
    token = vault.encrypt_json(
        values, workspace_id=integration.workspace_id, integration_id=integration.id
    )
    integration.credentials = token.encode()


def credentials_of(vault: Vault, integration: Integration) -> SecretDict:
    """The decrypted credentials (masked repr); empty when none are stored.

    ``CredentialsUnreadable`` when no configured key decrypts them (a lost or dropped key).
    """
    if not integration.credentials:
        return SecretDict()
    try:
        return vault.decrypt_json(
            integration.credentials.decode(),
            workspace_id=integration.workspace_id,
            integration_id=integration.id,
        )
    except VaultError:
        raise CredentialsUnreadable(UNREADABLE) from None


def create_integration(
    session: Session,
    vault: Vault,
    workspace_id: uuid.UUID,
    data: IntegrationCreate,
    *,
    sandbox_mode: bool,
) -> Integration:
    """A new integration; its credentials are checked for the provider and sealed."""
    spec = provider(data.provider)
    check_credentials(spec, data.credentials)
    check_credential_urls(spec, data.credentials, sandbox_mode=sandbox_mode)
    connector_config.check(spec.name, data.config)
    objects.check_supported(spec.name, data.config)
    _check_profile(data.rate_limit_profile)
    config = data.config
    if "objects" not in config.model_fields_set:  # absent: the core objects, both ways
        config = config.model_copy(update={"objects": objects.default_objects(spec.name, config)})
    integration = Integration(
        id=new_id(),
        workspace_id=workspace_id,
        provider=spec.name,
        name=data.name.strip(),
        status=IntegrationStatus.CONNECTED,
        base_url=safe_base_url(spec, data.base_url, sandbox_mode=sandbox_mode),
        config=config.model_dump(mode="json", exclude_none=True),
        rate_limit_profile=data.rate_limit_profile,
        error_count=0,
    )
    seal_credentials(vault, integration, data.credentials)
    session.add(integration)
    session.flush()
    return integration


def list_integrations(session: Session, workspace_id: uuid.UUID) -> list[Integration]:
    """The workspace's integrations, oldest first."""
    query = (
        select(Integration)
        .where(Integration.workspace_id == workspace_id)
        .order_by(Integration.created_at, Integration.id)
    )
    return list(session.scalars(query))


def get_integration(
    session: Session, workspace_id: uuid.UUID, integration_id: uuid.UUID
) -> Integration:
    """One integration of the workspace; ``RecordNotFound`` otherwise."""
    integration = session.get(Integration, integration_id)
    if integration is None or integration.workspace_id != workspace_id:
        raise RecordNotFound(f"no integration {integration_id}")
    return integration


def update_integration(
    session: Session,
    vault: Vault,
    integration: Integration,
    patch: IntegrationPatch,
    *,
    sandbox_mode: bool,
) -> Integration:
    """Apply the fields sent; new credentials replace the old ones entirely."""
    spec = provider(integration.provider)
    sent = patch.model_fields_set
    if "name" in sent and patch.name is not None:
        integration.name = patch.name.strip()
    if "base_url" in sent:
        integration.base_url = safe_base_url(spec, patch.base_url, sandbox_mode=sandbox_mode)
    if "config" in sent and patch.config is not None:
        connector_config.check(spec.name, patch.config)
        objects.check_supported(spec.name, patch.config)
        config = patch.config
        if "objects" not in config.model_fields_set:  # absent: the objects synced so far
            kept = SyncConfig.model_validate({"objects": (integration.config or {}).get("objects")})
            config = config.model_copy(update={"objects": kept.objects})
        integration.config = config.model_dump(mode="json", exclude_none=True)
    if "rate_limit_profile" in sent:
        _check_profile(patch.rate_limit_profile)
        integration.rate_limit_profile = patch.rate_limit_profile
    if "credentials" in sent and patch.credentials is not None:
        check_credentials(spec, patch.credentials)
        check_credential_urls(spec, patch.credentials, sandbox_mode=sandbox_mode)
        seal_credentials(vault, integration, patch.credentials)
        mark_connected(integration)
    if "status" in sent and patch.status is not None:
        integration.status = patch.status
    session.flush()
    return integration


def delete_integration(session: Session, integration: Integration) -> None:
    """Remove the integration with its mappings, cursors and links."""
    session.delete(integration)
    session.flush()


def mark_connected(integration: Integration) -> None:
    """Working credentials: clear the error state (a disabled one stays disabled)."""
    if integration.status != IntegrationStatus.DISABLED:
        integration.status = IntegrationStatus.CONNECTED
    integration.error_count = 0
    integration.last_error = None
    integration.last_error_at = None


def mark_needs_auth(integration: Integration, reason: str, *, oauth: bool) -> str:
    """The provider refused the credentials: say what to do, and pause the integration.

    ``oauth``: the credentials came from the OAuth flow, so reconnecting is the fix.
    """
    if oauth:
        action = (
            f"reconnect it: GET /api/v1/oauth/{integration.provider}/authorize"
            f"?integration_id={integration.id}"
        )
    else:
        action = f"send new credentials: PATCH /api/v1/integrations/{integration.id}"
    message = f"{integration.provider} refused the credentials ({reason}); {action}"
    integration.status = IntegrationStatus.NEEDS_AUTH
    integration.error_count += 1
    integration.last_error = message
    integration.last_error_at = datetime.now(UTC)
    return message
