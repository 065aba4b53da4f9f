"""Provider name -> connector, through the provider's spec.

The integrations service decrypts an integration's credentials, fills a
``ConnectorContext`` and asks ``build`` for the connector. Nothing above this module
names a connector class; a provider's factory is its ``ProviderSpec.connector``.
"""

from __future__ import annotations

from collections.abc import Callable

from crmsync.connectors import providers as registry
from crmsync.connectors.base import Connector
from crmsync.connectors.context import TOKEN_EXTRAS, ConnectorContext, stored_token
from crmsync.connectors.spec import load

__all__ = [
    "TOKEN_EXTRAS",
    "ConnectorContext",
    "Factory",
    "build",
    "factory",
    "providers",
    "stored_token",
]

Factory = Callable[[ConnectorContext], Connector]


def providers() -> list[str]:
    """Providers that have a connector."""
    return registry.names()


def factory(provider: str) -> Factory:
    """The factory of ``provider``; ``ConfigError`` when there is no connector for it."""
    built: Factory = load(registry.get(provider).connector)
    return built


def build(provider: str, context: ConnectorContext) -> Connector:
    """The connector of one integration."""
    return factory(provider)(context)
