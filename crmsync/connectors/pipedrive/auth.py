"""Pipedrive auth: a company API token, or OAuth tokens that renew.

The API token goes in the ``x-api-token`` header (never the query string, which ends up
in logs). OAuth clients authenticate to ``/oauth/token`` with HTTP Basic (the spec's
OAuth app).
"""

from __future__ import annotations

import httpx

from crmsync.connectors.context import ConnectorContext
from crmsync.connectors.errors import ConfigError
from crmsync.connectors.http import ApiKeyAuth, BearerAuth
from crmsync.connectors.pipedrive.spec import OAUTH

__all__ = ["api_base", "build_auth"]


def api_base(context: ConnectorContext) -> str:
    """Where API calls go: the company domain an OAuth grant names, else ``base_url``.

    Only a Pipedrive host is taken from the grant; anything else keeps the integration's
    own (already vetted) base URL.
    """
    domain = str(context.credentials.get("api_domain") or "")
    if not domain or context.credentials.get("api_token"):
        return context.base_url
    url = httpx.URL(domain)
    if url.scheme == "https" and (
        url.host == "pipedrive.com" or url.host.endswith(".pipedrive.com")
    ):
        return f"https://{url.host}"
    return context.base_url


def build_auth(context: ConnectorContext) -> httpx.Auth:
    """Header auth for an API token, bearer or renewing OAuth for an OAuth grant."""
    credentials = context.credentials
    if credentials.get("api_token"):
        return ApiKeyAuth(str(credentials["api_token"]), name="x-api-token")
    if not credentials.get("access_token"):
        raise ConfigError("Pipedrive credentials need an api_token or an access_token")
    if not credentials.get("refresh_token"):
        return BearerAuth(str(credentials["access_token"]))
    return OAUTH.renewing_auth(context)
