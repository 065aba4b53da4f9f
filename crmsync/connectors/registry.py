"""Provider name -> connector factory, and what a factory is given.

The integrations service decrypts an integration's credentials, fills a
``ConnectorContext`` and asks ``build`` for the connector. Adding a provider is one
entry in ``FACTORIES``; nothing above this module names a connector class.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from crmsync.connectors.base import Connector
from crmsync.connectors.errors import ConfigError
from crmsync.connectors.http import HttpSettings, TokenSet
from crmsync.connectors.http.ratelimit import WindowBackend
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.tokens import TokenStore
from crmsync.connectors.names import canonical

__all__ = [
    "FACTORIES",
    "TOKEN_EXTRAS",
    "ConnectorContext",
    "Factory",
    "build",
    "providers",
    "stored_token",
]


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


Factory = Callable[[ConnectorContext], Connector]

# provider -> "module:callable", imported on first use so a provider's code loads only
# when an integration of it exists
FACTORIES: dict[str, str] = {
    "hubspot": "crmsync.connectors.hubspot.connector:HubSpotConnector.from_context",
    "salesforce": "crmsync.connectors.salesforce.connector:SalesforceConnector.from_context",
    "pipedrive": "crmsync.connectors.pipedrive.connector:PipedriveConnector.from_context",
    "totalexpert": "crmsync.connectors.totalexpert.connector:TotalExpertConnector.from_context",
    "generic": "crmsync.connectors.rest.connector:RestConnector.from_context",
}


def providers() -> list[str]:
    """Providers that have a connector."""
    return sorted(FACTORIES)


def factory(provider: str) -> Factory:
    """The factory of ``provider``; ``ConfigError`` when there is no connector for it."""
    target = FACTORIES.get(canonical(provider))
    if target is None:
        known = ", ".join(providers())
        raise ConfigError(f"no connector for provider {provider!r} (available: {known})")
    module_name, _, attribute = target.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    built: Factory = found
    return built


def build(provider: str, context: ConnectorContext) -> Connector:
    """The connector of one integration."""
    return factory(provider)(context)
