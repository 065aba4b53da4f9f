"""What a connector factory is given: one integration's settings, secrets decrypted.

The integrations service decrypts an integration's credentials and fills a
``ConnectorContext``; ``connectors.registry.build`` hands it to the provider's factory.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from crmsync.connectors.http import HttpSettings, TokenSet
from crmsync.connectors.http.ratelimit import WindowBackend
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.tokens import TokenStore

__all__ = ["TOKEN_EXTRAS", "ConnectorContext", "stored_token"]


@dataclass(frozen=True, slots=True)
class ConnectorContext:
    """Everything a connector needs about one integration, secrets already decrypted.

    ``config`` is the integration's configuration (``Integration.config``), from which
    connectors read their own settings (a REST definition, Salesforce external ids).
    ``transport``, ``verify``, ``sleep`` and ``clock`` are injected by tests and the
    sandboxes; ``on_refresh`` persists renewed OAuth tokens; ``token_store`` and
    ``windows`` are the deployment's shared state (``connectors.http.sharing``).
    """

    integration_id: uuid.UUID
    workspace_id: uuid.UUID
    base_url: str
    credentials: Mapping[str, Any]
    config: Mapping[str, Any] = field(default_factory=dict)
    client_id: str | None = None
    client_secret: Secret | None = None
    rate_profile: str | None = None
    webhook_url: str | None = None
    webhook_secret: Secret | None = None
    http: HttpSettings = field(default_factory=HttpSettings)
    transport: httpx.BaseTransport | None = None
    verify: bool | str = True
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    on_refresh: Callable[[TokenSet], None] | None = None
    token_store: TokenStore | None = None
    windows: WindowBackend | None = None

    def secret(self, name: str) -> Secret | None:
        """A credential as a ``Secret`` (``None`` when absent or empty)."""
        value = self.credentials.get(name)
        return Secret(str(value)) if value else None


# token-response fields kept with the credentials (TokenSet.extras): where the API is
TOKEN_EXTRAS = ("instance_url", "api_domain")


def stored_token(values: Mapping[str, Any]) -> TokenSet:
    """The OAuth token set kept in an integration's credentials."""
    refresh = values.get("refresh_token")
    expires = values.get("expires_at")
    return TokenSet(
        access_token=Secret(str(values["access_token"])),
        refresh_token=Secret(str(refresh)) if refresh else None,
        expires_at=float(expires) if expires is not None else None,
        extras={k: str(values[k]) for k in TOKEN_EXTRAS if values.get(k)},
    )
