"""Salesforce auth: the OAuth web-server flow (with PKCE), sessions that renew on 401,
and a connected app signing in with client credentials.

The consent page and the token endpoint live on the login host the integration names:
``login.salesforce.com`` (production), ``test.salesforce.com`` (sandboxes) or the org's
My Domain. Salesforce's token answer has no ``expires_in``: a session ends after the
org's timeout and the API then answers 401 ``INVALID_SESSION_ID``. ``OAuth2Auth``
refreshes once on that 401 and retries; a second 401 (or a refresh answered
``invalid_grant``, a revoked grant) is an ``AuthError``. The answer's ``instance_url``
says where the org's API is; ``InstanceAuth`` sends every call there.
"""

from __future__ import annotations

import httpx

from crmsync.connectors.context import ConnectorContext, stored_token
from crmsync.connectors.errors import ConfigError
from crmsync.connectors.http import BearerAuth, OAuth2Auth
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.oauth_app import base_transport, client_credentials_auth
from crmsync.connectors.salesforce.instance import InstanceAuth, instance_url
from crmsync.connectors.salesforce.spec import OAUTH

__all__ = [
    "build_auth",
    "instance_url",
    "token_endpoint",
    "transport",
]


def transport(context: ConnectorContext) -> httpx.BaseTransport:
    """The injected transport, or TLS that trusts ``context.verify`` (a CA file path)."""
    return base_transport(context.transport, context.verify)


def token_endpoint(context: ConnectorContext) -> TokenEndpoint:
    """The token endpoint on the integration's base URL (login host or My Domain)."""
    return OAUTH.context_endpoint(context, *_own_app(context))


def _own_app(context: ConnectorContext) -> tuple[str | None, Secret | None]:
    # an integration's own connected app comes first, then the deployment's
    client_id = context.credentials.get("client_id")
    return (str(client_id) if client_id else None), context.secret("client_secret")


def build_auth(context: ConnectorContext) -> httpx.Auth:
    """Renewing OAuth when there is a refresh token; client-credentials sign-in when the
    credentials are a connected app's id and secret; a bare session token otherwise."""
    credentials = context.credentials
    token = stored_token(credentials) if credentials.get("access_token") else None
    oauth: OAuth2Auth
    if token is not None and token.refresh_token is not None:
        oauth = OAUTH.renewing_auth(context, *_own_app(context))
    elif credentials.get("client_id") and context.secret("client_secret") is not None:
        oauth = client_credentials_auth(context, token_endpoint(context))
    elif token is not None:
        return BearerAuth(token.access_token)
    else:
        raise ConfigError(
            "Salesforce credentials need an access_token (connect through the OAuth flow) "
            "or a connected app's client_id and client_secret"
        )
    # a token answer may name another instance: follow it (connectors.salesforce.instance)
    return InstanceAuth(oauth, instance_url(context), context.base_url)
