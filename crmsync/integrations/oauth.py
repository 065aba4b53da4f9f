"""The OAuth authorization-code flow: a server-side ``state``, PKCE, and the callback.

``start`` stores what was asked (workspace, who asked: an API key or a web app user,
provider, the integration to create or reconnect, its sync config and mapping, the PKCE
verifier) as an ``OAuthState`` row, its intent sealed by the vault, and sends the
provider a random token whose SHA-256 finds the row again. ``claim`` takes that row for
the callback: once (an atomic ``UPDATE … WHERE used_at IS NULL``), before it expires,
only while its owner still may (the key is live; the user is enabled, in the workspace,
with a role that manages integrations), and, when the callback itself carries an API
key, only for that key. The caller commits the claim before ``complete`` trades the code, so a state
cannot be replayed even when the exchange fails. Functions never commit.
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
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crmsync.auth.permissions import Permission, allows
from crmsync.config import Settings
from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.oauth_app import OAuthApp
from crmsync.connectors.spec import ProviderSpec
from crmsync.integrations import objects, service
from crmsync.integrations.config import SyncConfig
from crmsync.integrations.connection import Wiring, client_credentials, share_token
from crmsync.integrations.providers import provider
from crmsync.integrations.schemas import IntegrationCreate
from crmsync.integrations.vault import Vault, VaultError
from crmsync.mapping.errors import MappingError
from crmsync.mapping.model import MappingSet
from crmsync.records.errors import RecordInvalid
from crmsync.store.models import ApiKey, Integration, OAuthState, User
from crmsync.sync.targets import save_mapping

__all__ = [
    "STATE_TTL",
    "Authorization",
    "Intent",
    "StateRefused",
    "claim",
    "complete",
    "pkce_pair",
    "redirect_uri",
    "start",
    "started_by_user",
]

STATE_TTL = 600.0
# states are kept this long after they expire, then purged by the next start
_KEEP_EXPIRED = timedelta(days=1)


class StateRefused(RecordInvalid):
    """The callback's ``state`` is unknown, used, expired or not the caller's."""


@dataclass(frozen=True, slots=True)
class Authorization:
    """Where to send the user, and until when the state is good."""

    url: str
    state: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class Intent:
    """What a claimed state asked for."""

    workspace_id: uuid.UUID
    api_key_id: uuid.UUID | None  # who started it: an API key or a web app user
    user_id: uuid.UUID | None
    provider: str
    integration_id: uuid.UUID | None
    name: str
    base_url: str
    config: dict[str, Any]
    mapping: dict[str, Any] | None
    verifier: str | None


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def redirect_uri(settings: Settings, provider_name: str) -> str:
    """The callback URL registered with the provider's OAuth app."""
    return f"{settings.base_url.rstrip('/')}/api/v1/oauth/{provider_name}/callback"


def _app(spec: ProviderSpec, settings: Settings) -> tuple[OAuthApp, str]:
    client_id, secret = client_credentials(settings, spec.name)
    if spec.oauth is None:
        raise RecordInvalid(
            f"{spec.label} connects with client credentials, not a consent page: "
            f"POST /api/v1/integrations with credentials client_id and client_secret"
        )
    if not client_id or secret is None:
        upper = spec.name.upper()
        raise RecordInvalid(
            f"set CRMSYNC_{upper}_CLIENT_ID and CRMSYNC_{upper}_CLIENT_SECRET to connect "
            f"{spec.label} by OAuth"
        )
    return spec.oauth, client_id


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _seal_scope(row_id: uuid.UUID) -> str:
    # the intent is bound to its row, apart from any integration's credentials
    return f"oauth-state:{row_id}"


def start(
    session: Session,
    vault: Vault,
    settings: Settings,
    workspace_id: uuid.UUID,
    api_key_id: uuid.UUID | None,
    provider_name: str,
    *,
    user_id: uuid.UUID | None = None,
    integration_id: uuid.UUID | None = None,
    name: str | None = None,
    base_url: str | None = None,
    config: SyncConfig | None = None,
    mapping: MappingSet | None = None,
    clock: Callable[[], float] = time.time,
) -> Authorization:
    """The provider's consent URL for a new integration, or to reconnect one; the state
    belongs to ``api_key_id`` or, from the web app, to ``user_id`` (exactly one)."""
    if (api_key_id is None) == (user_id is None):
        raise ValueError("an OAuth state belongs to an API key or to a user, exactly one")
    spec = provider(provider_name)
    app, client_id = _app(spec, settings)
    if integration_id is not None:
        existing = service.get_integration(session, workspace_id, integration_id)
        if existing.provider != spec.name:
            raise RecordInvalid(f"integration {integration_id} is not a {spec.name} integration")
        base_url = existing.base_url
    url = service.safe_base_url(spec, base_url, sandbox_mode=settings.sandbox_mode)
    if mapping is not None and mapping.provider != spec.name:
        raise RecordInvalid(
            f"mapping.provider is {mapping.provider!r}; this flow connects {spec.name}",
            {"field": "mapping.provider"},
        )
    if config is not None:  # refused now, not after the user consented at the CRM
        objects.check_supported(spec.name, config)
    verifier, challenge = pkce_pair() if app.pkce else (None, None)
    now = clock()
    session.execute(
        delete(OAuthState).where(
            OAuthState.workspace_id == workspace_id,
            OAuthState.expires_at < _at(now) - _KEEP_EXPIRED,
        )
    )
    state = secrets.token_urlsafe(32)
    row = OAuthState(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        api_key_id=api_key_id,
        user_id=user_id,
        provider=spec.name,
        state_hash=_hash(state),
        created_at=_at(now),
        expires_at=_at(now + STATE_TTL),
    )
    intent = {
        "integration_id": str(integration_id) if integration_id else None,
        "name": name or f"{spec.label} (OAuth)",
        "base_url": url,
        "config": (config or SyncConfig()).model_dump(mode="json", exclude_unset=True),
        "mapping": mapping.model_dump(mode="json") if mapping is not None else None,
        "verifier": verifier,
    }
    sealed = vault.encrypt(
        json.dumps(intent), workspace_id=workspace_id, integration_id=_seal_scope(row.id)
    )
    row.intent = sealed.encode()
    session.add(row)
    session.flush()
    consent = app.authorize_url(url, client_id, redirect_uri(settings, spec.name), state, challenge)
    return Authorization(consent, state, now + STATE_TTL)


_INVALID = "the OAuth state is not valid; start again from authorize"


def claim(
    session: Session,
    vault: Vault,
    provider_name: str,
    state: str,
    *,
    caller: tuple[uuid.UUID, uuid.UUID] | None = None,
    clock: Callable[[], float] = time.time,
) -> Intent:
    """Take the state for the callback, once; ``StateRefused`` says why not.

    ``caller`` is the (workspace, API key) of a callback that carries an API key: it
    must be the key that started the flow. Another workspace's state answers as an
    unknown one, and is not used up.
    """
    spec = provider(provider_name)
    row = session.scalar(select(OAuthState).where(OAuthState.state_hash == _hash(state)))
    if row is None or row.provider != spec.name:
        raise StateRefused(_INVALID)
    if caller is not None and caller != (row.workspace_id, row.api_key_id):
        raise StateRefused(_INVALID)
    _check_owner(session, row)
    now = _at(clock())
    taken = session.execute(
        update(OAuthState)
        .where(
            OAuthState.id == row.id,
            OAuthState.used_at.is_(None),
            OAuthState.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        session.refresh(row)
        if row.used_at is not None:
            raise StateRefused("the OAuth state was already used; start again from authorize")
        raise StateRefused("the OAuth state has expired; start again from authorize")
    try:
        text = vault.decrypt(
            row.intent.decode(), workspace_id=row.workspace_id, integration_id=_seal_scope(row.id)
        ).reveal()
    except VaultError:
        raise StateRefused(_INVALID) from None
    raw: dict[str, Any] = json.loads(text)
    return Intent(
        workspace_id=row.workspace_id,
        api_key_id=row.api_key_id,
        user_id=row.user_id,
        provider=spec.name,
        integration_id=uuid.UUID(raw["integration_id"]) if raw.get("integration_id") else None,
        name=raw["name"],
        base_url=raw["base_url"],
        config=raw.get("config") or {},
        mapping=raw.get("mapping"),
        verifier=raw.get("verifier"),
    )


def _check_owner(session: Session, row: OAuthState) -> None:
    """The key that started the flow is live, or the user may still manage integrations."""
    if row.user_id is not None:
        user = session.get(User, row.user_id)
        if (
            user is None
            or user.disabled_at is not None
            or user.workspace_id != row.workspace_id
            or not allows(user.role, Permission.INTEGRATIONS_MANAGE)
        ):
            raise StateRefused(
                "the user who started this authorization may no longer connect CRMs; start again"
            )
        return
    key = session.get(ApiKey, row.api_key_id)
    if key is None or key.revoked_at is not None or key.workspace_id != row.workspace_id:
        raise StateRefused("the API key that started this authorization was revoked; start again")


def started_by_user(session: Session, state: str) -> bool:
    """Whether ``state`` was started from the web app (its callback answers there)."""
    found = session.scalar(select(OAuthState.user_id).where(OAuthState.state_hash == _hash(state)))
    return found is not None


def complete(
    session: Session,
    vault: Vault,
    settings: Settings,
    intent: Intent,
    code: str,
    wiring: Wiring | None = None,
) -> Integration:
    """Trade the code for tokens, seal them, and make the integration ``connected``:
    created with the intent's sync config and mapping, or reconnected."""
    spec = provider(intent.provider)
    app, client_id = _app(spec, settings)
    wiring = wiring or Wiring()
    _, client_secret = client_credentials(settings, spec.name)
    endpoint = app.token_endpoint(
        intent.base_url, client_id, client_secret, transport=wiring.transport, verify=wiring.verify
    )
    try:
        token = endpoint.exchange_code(code, redirect_uri(settings, spec.name), intent.verifier)
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
    # no expires_at when the answer has no expires_in (Salesforce): renewed on a 401
    values = {k: v for k, v in values.items() if k in spec.allowed and v is not None}
    if intent.integration_id is not None:
        integration = service.get_integration(session, intent.workspace_id, intent.integration_id)
        service.check_credential_urls(spec, values, sandbox_mode=settings.sandbox_mode)
        service.seal_credentials(vault, integration, values)
        share_token(settings, vault, integration, token)
        service.mark_connected(integration)
        session.flush()
        return integration
    data = IntegrationCreate(
        provider=spec.name,
        name=intent.name,
        credentials=values,
        base_url=intent.base_url,
        config=SyncConfig.model_validate(intent.config),
    )
    integration = service.create_integration(
        session, vault, intent.workspace_id, data, sandbox_mode=settings.sandbox_mode
    )
    if intent.mapping is not None:
        try:
            save_mapping(session, integration, MappingSet.model_validate(intent.mapping))
        except (MappingError, ValidationError) as exc:
            raise RecordInvalid(f"mapping refused: {exc}", {"field": "mapping"}) from None
    return integration
