"""Talking to an integration's CRM: build its connector, test it, list its fields, and
renew its OAuth tokens. Renewed tokens are sealed back into the row (the caller commits);
a refused credential turns the integration ``needs_auth`` with what to do about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from crmsync.config import Settings
from crmsync.connectors.base import Connector, RemoteField
from crmsync.connectors.errors import AuthError, ConnectorError
from crmsync.connectors.http import TokenSet
from crmsync.connectors.http.ratelimit import ExtraBudgets, WindowBackend
from crmsync.connectors.http.secret import Secret, SecretDict
from crmsync.connectors.http.sharing import shared_state
from crmsync.connectors.registry import TOKEN_EXTRAS, ConnectorContext, build, stored_token
from crmsync.integrations.config import RateBudget
from crmsync.integrations.providers import provider
from crmsync.integrations.service import credentials_of, mark_connected, mark_needs_auth
from crmsync.integrations.service import seal_credentials as seal
from crmsync.integrations.vault import Vault, VaultSealer
from crmsync.records.errors import RecordInvalid
from crmsync.store.models import Integration

__all__ = [
    "Wiring",
    "client_credentials",
    "connector_for",
    "fields",
    "refresh",
    "share_token",
    "test",
]


@dataclass(frozen=True, slots=True)
class Wiring:
    """How connectors reach the network: real sockets by default, injectable for tests."""

    transport: httpx.BaseTransport | None = None
    verify: bool | str = True


def client_credentials(settings: Settings, provider: str) -> tuple[str | None, Secret | None]:
    """The provider's OAuth app from settings (``CRMSYNC_<PROVIDER>_CLIENT_ID``...)."""
    client_id: str | None = getattr(settings, f"{provider}_client_id", None)
    secret = getattr(settings, f"{provider}_client_secret", None)
    return client_id, Secret(secret.get_secret_value()) if secret is not None else None


def share_token(
    settings: Settings, vault: Vault, integration: Integration, token: TokenSet
) -> None:
    """Hand a token obtained outside the auth flow (refresh endpoint, reconnect) to the
    shared token store, so no client keeps using the one it replaced."""
    sealer = VaultSealer(vault, integration.workspace_id, integration.id)
    shared_state(settings.redis_url).token_store(integration.id, sealer).save(token)


def _token_saver(vault: Vault, integration: Integration) -> Callable[[TokenSet], None]:
    # where the API is (Salesforce instance_url, Pipedrive api_domain) travels with the
    # token: a refresh that names a new one must outlive this connector
    kept = [k for k in TOKEN_EXTRAS if k in provider(integration.provider).allowed]

    def save(token: TokenSet) -> None:
        values = dict(credentials_of(vault, integration))
        values["access_token"] = token.access_token.reveal()
        if token.refresh_token is not None:
            values["refresh_token"] = token.refresh_token.reveal()
        values["expires_at"] = token.expires_at
        values.update({k: token.extras[k] for k in kept if token.extras.get(k)})
        seal(vault, integration, values)

    return save


def connector_for(
    integration: Integration, vault: Vault, settings: Settings, wiring: Wiring | None = None
) -> Connector:
    """The connector of ``integration``, its credentials decrypted for the call only."""
    wiring = wiring or Wiring()
    client_id, client_secret = client_credentials(settings, integration.provider)
    state = shared_state(settings.redis_url)
    sealer = VaultSealer(vault, integration.workspace_id, integration.id)
    context = ConnectorContext(
        integration_id=integration.id,
        workspace_id=integration.workspace_id,
        base_url=str(integration.base_url),
        credentials=credentials_of(vault, integration),
        config=integration.config or {},
        client_id=client_id,
        client_secret=client_secret,
        rate_profile=integration.rate_limit_profile,
        webhook_url=(
            f"{settings.base_url.rstrip('/')}/api/v1/webhooks/"
            f"{integration.provider}/{integration.id}"
        ),
        transport=wiring.transport,
        verify=wiring.verify,
        on_refresh=_token_saver(vault, integration),
        token_store=state.token_store(integration.id, sealer),
        windows=_windows(state.windows(), integration),
    )
    return build(integration.provider, context)


def _windows(backend: WindowBackend, integration: Integration) -> WindowBackend:
    """The deployment's rate windows, plus the integration's own budgets if it has any."""
    raw = (integration.config or {}).get("rate_budgets") or []
    extra = [RateBudget.model_validate(b).budget() for b in raw]
    return ExtraBudgets(backend, extra) if extra else backend


def _is_oauth(credentials: SecretDict) -> bool:
    return bool(credentials.get("refresh_token"))


def _object_to_probe(integration: Integration, connector: Connector) -> str:
    configured = list((integration.config or {}).get("objects") or {})
    supported = list(connector.capabilities.objects)
    return next((o for o in configured if o in supported), supported[0])


def test(
    integration: Integration, vault: Vault, settings: Settings, wiring: Wiring | None = None
) -> tuple[bool, str]:
    """Whether the CRM accepts the credentials, and a sentence for the user."""
    credentials = credentials_of(vault, integration)
    try:
        connector = connector_for(integration, vault, settings, wiring)
    except ConnectorError as exc:
        return False, exc.message
    try:
        object_type = _object_to_probe(integration, connector)
        found = connector.describe(object_type)
    except AuthError as exc:
        return False, mark_needs_auth(integration, exc.message, oauth=_is_oauth(credentials))
    except ConnectorError as exc:
        return False, f"{integration.provider} answered: {exc.message}"
    finally:
        connector.close()
    mark_connected(integration)
    return True, f"connected: {len(found)} fields on {object_type}"


def fields(
    integration: Integration,
    vault: Vault,
    settings: Settings,
    object_type: str,
    wiring: Wiring | None = None,
) -> list[RemoteField]:
    """The remote fields of ``object_type``, custom ones included."""
    connector = connector_for(integration, vault, settings, wiring)
    try:
        return connector.describe(object_type)
    except AuthError as exc:
        oauth = _is_oauth(credentials_of(vault, integration))
        mark_needs_auth(integration, exc.message, oauth=oauth)
        raise
    finally:
        connector.close()


def refresh(
    integration: Integration, vault: Vault, settings: Settings, wiring: Wiring | None = None
) -> tuple[bool, str]:
    """Renew the OAuth access token now; a refused refresh makes it ``needs_auth``."""
    credentials = credentials_of(vault, integration)
    if not _is_oauth(credentials):
        raise RecordInvalid(
            "this integration has no refresh token (a static token or API key); "
            "there is nothing to refresh"
        )
    app = provider(integration.provider).oauth
    if app is None:
        raise RecordInvalid(f"OAuth refresh for {integration.provider} is not available yet")
    wiring = wiring or Wiring()
    client_id, client_secret = client_credentials(settings, integration.provider)
    try:
        endpoint = app.token_endpoint(
            str(integration.base_url),
            client_id,
            client_secret,
            transport=wiring.transport,
            verify=wiring.verify,
        )
        try:
            fresh = endpoint(stored_token(credentials))
        finally:
            endpoint.http.close()
    except AuthError as exc:
        return False, mark_needs_auth(integration, exc.message, oauth=True)
    except ConnectorError as exc:
        return False, f"{integration.provider} answered: {exc.message}"
    _token_saver(vault, integration)(fresh)
    share_token(settings, vault, integration, fresh)
    mark_connected(integration)
    return True, "access token renewed"
