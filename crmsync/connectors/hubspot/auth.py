"""HubSpot auth: private-app tokens, and OAuth tokens that renew.

A credentials mapping with a ``refresh_token`` came from the OAuth flow and renews itself
through the spec's OAuth app (``/oauth/v1/token``); one with only an ``access_token`` is
a private-app token.
"""

from __future__ import annotations

import httpx

from crmsync.connectors.context import ConnectorContext
from crmsync.connectors.errors import ConfigError
from crmsync.connectors.http import BearerAuth
from crmsync.connectors.hubspot.spec import OAUTH

__all__ = ["build_auth"]


def build_auth(context: ConnectorContext) -> httpx.Auth:
    """Bearer auth for a private-app token, or renewing OAuth for an OAuth grant."""
    if not context.credentials.get("access_token"):
        raise ConfigError("HubSpot credentials need an access_token")
    if not context.credentials.get("refresh_token"):
        return BearerAuth(str(context.credentials["access_token"]))
    return OAUTH.renewing_auth(context)
