"""The OAuth authorization-code flow: a sealed ``state``, PKCE, and the callback.

The ``state`` sent to the provider is the intent itself (workspace, provider, which
integration to create or reconnect, expiry, PKCE verifier), encrypted and authenticated
with the vault. Nothing is stored between the two legs, a forged or altered state does
not decrypt, and the verifier never shows in a URL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from crmsync.config import Settings
from crmsync.connectors.errors import ConnectorError
from crmsync.integrations import service
from crmsync.integrations.config import SyncConfig
from crmsync.integrations.connection import Wiring, client_credentials
from crmsync.integrations.providers import OAuthApp, Provider, provider
from crmsync.integrations.schemas import IntegrationCreate
from crmsync.integrations.vault import Vault, VaultError
from crmsync.records.errors import RecordInvalid
from crmsync.store.models import Integration

__all__ = ["STATE_TTL", "Authorization", "complete", "pkce_pair", "redirect_uri", "start"]

STATE_TTL = 600.0
# the state is sealed under this binding, apart from any integration's credentials
_STATE_SCOPE = "oauth-state"


@dataclass(frozen=True, slots=True)
class Authorization:
    """Where to send the user, and until when the state is good."""

    url: str
    state: str
    expires_at: float


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def redirect_uri(settings: Settings, provider_name: str) -> str:
    """The callback URL registered with the provider's OAuth app."""
    return f"{settings.base_url.rstrip('/')}/api/v1/oauth/{provider_name}/callback"


def _app(spec: Provider, settings: Settings) -> tuple[OAuthApp, str]:
    client_id, secret = client_credentials(settings, spec.name)
    if spec.oauth is None:
        raise RecordInvalid(f"{spec.name} is configured with credentials, not OAuth")
    if not client_id or secret is None:
        upper = spec.name.upper()
        raise RecordInvalid(
            f"set CRMSYNC_{upper}_CLIENT_ID and CRMSYNC_{upper}_CLIENT_SECRET to connect "
            f"{spec.label} by OAuth"
        )
    return spec.oauth, client_id


def start(
    session: Session,
    vault: Vault,
    settings: Settings,
    workspace_id: uuid.UUID,
    provider_name: str,
    *,
    integration_id: uuid.UUID | None = None,
    name: str | None = None,
    base_url: str | None = None,
    config: SyncConfig | None = None,
    clock: Callable[[], float] = time.time,
) -> Authorization:
    """The provider's consent URL for a new integration, or to reconnect one."""
    spec = provider(provider_name)
    app, client_id = _app(spec, settings)
    if integration_id is not None:
        existing = service.get_integration(session, workspace_id, integration_id)
        if existing.provider != spec.name:
            raise RecordInvalid(f"integration {integration_id} is not a {spec.name} integration")
        base_url = existing.base_url
    url = service.safe_base_url(spec, base_url, sandbox_mode=settings.sandbox_mode)
    verifier, challenge = pkce_pair() if app.pkce else (None, None)
    expires = clock() + STATE_TTL
    intent = {
        "w": str(workspace_id),
        "p": spec.name,
        "i": str(integration_id) if integration_id else None,
        "n": name or f"{spec.label} (OAuth)",
        "b": url,
        "c": (config or SyncConfig()).model_dump(mode="json"),
        "v": verifier,
        "e": expires,
    }
    state = vault.encrypt(json.dumps(intent), workspace_id=_STATE_SCOPE, integration_id=spec.name)
    consent = app.authorize_url(url, client_id, redirect_uri(settings, spec.name), state, challenge)
    return Authorization(consent, state, expires)


def _intent(vault: Vault, provider_name: str, state: str, now: float) -> dict[str, Any]:
    try:
        text = vault.decrypt(state, workspace_id=_STATE_SCOPE, integration_id=provider_name)
    except VaultError:
        raise RecordInvalid("the OAuth state is not valid; start again from authorize") from None
    intent: dict[str, Any] = json.loads(text.reveal())
    if intent.get("e", 0) < now:
        raise RecordInvalid("the OAuth state has expired; start again from authorize")
    return intent


def complete(
    session: Session,
    vault: Vault,
    settings: Settings,
    provider_name: str,
    code: str,
    state: str,
    wiring: Wiring | None = None,
    clock: Callable[[], float] = time.time,
) -> Integration:
    """Trade the code for tokens, seal them, and mark the integration connected."""
    spec = provider(provider_name)
    app, client_id = _app(spec, settings)
    intent = _intent(vault, spec.name, state, clock())
    wiring = wiring or Wiring()
    _, client_secret = client_credentials(settings, spec.name)
    endpoint = app.token_endpoint(
        intent["b"], client_id, client_secret, transport=wiring.transport, verify=wiring.verify
    )
    try:
        token = endpoint.exchange_code(code, redirect_uri(settings, spec.name), intent["v"])
    except ConnectorError as exc:
        raise RecordInvalid(f"{spec.label} refused the authorization: {exc.message}") from None
    finally:
        endpoint.http.close()
    values: dict[str, Any] = {
        "access_token": token.access_token.reveal(),
        "expires_at": token.expires_at,
        **dict(token.extras),
    }
    if token.refresh_token is not None:
        values["refresh_token"] = token.refresh_token.reveal()
    values = {k: v for k, v in values.items() if k in spec.allowed}
    workspace_id = uuid.UUID(intent["w"])
    if intent.get("i"):
        integration = service.get_integration(session, workspace_id, uuid.UUID(intent["i"]))
        service.seal_credentials(vault, integration, values)
        service.mark_connected(integration)
        session.flush()
        return integration
    data = IntegrationCreate(
        provider=spec.name,
        name=intent["n"],
        credentials=values,
        base_url=intent["b"],
        config=SyncConfig.model_validate(intent["c"]),
    )
    return service.create_integration(
        session, vault, workspace_id, data, sandbox_mode=settings.sandbox_mode
    )
