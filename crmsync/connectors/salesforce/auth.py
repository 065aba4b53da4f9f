"""Salesforce auth: session tokens, and OAuth web-server grants that renew on 401.

Salesforce's token response has no ``expires_in``: a session ends after the org's
timeout and the API then answers 401 ``INVALID_SESSION_ID``. ``OAuth2Auth`` refreshes
once on that 401 and retries; a second 401 is an ``AuthError``.
"""

from __future__ import annotations

import ssl

import httpx

from crmsync.connectors.errors import ConfigError
from crmsync.connectors.http import BearerAuth, OAuth2Auth
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.http.tokens import local_store
from crmsync.connectors.registry import ConnectorContext, stored_token
from crmsync.connectors.salesforce.instance import LOGIN_HOSTS, InstanceAuth, instance_url
from crmsync.connectors.salesforce.session import ClientCredentialsAuth
from crmsync.integrations.ssrf import GuardedTransport

__all__ = [
    "LOGIN_HOSTS",
    "TOKEN_PATH",
    "build_auth",
    "instance_url",
    "token_endpoint",
    "transport",
]

TOKEN_PATH = "/services/oauth2/token"  # noqa: S105  (a path, not a secret)


def transport(context: ConnectorContext) -> httpx.BaseTransport:
    """The injected transport, or TLS that trusts ``context.verify`` (a CA file path)."""
    if context.transport is not None:
        return context.transport
    verify = context.verify
    if isinstance(verify, str):
        return httpx.HTTPTransport(verify=ssl.create_default_context(cafile=verify))
    return httpx.HTTPTransport(verify=verify)


def token_endpoint(context: ConnectorContext) -> TokenEndpoint:
    """The token endpoint on the integration's base URL (login host or My Domain)."""
    # an integration's own connected app comes first, then the deployment's
    client_id = context.credentials.get("client_id") or context.client_id
    secret = context.secret("client_secret") or context.client_secret
    if not client_id or secret is None:
        raise ConfigError(
            "Salesforce OAuth needs CRMSYNC_SALESFORCE_CLIENT_ID and "
            "CRMSYNC_SALESFORCE_CLIENT_SECRET"
        )
    base = context.base_url.rstrip("/")
    http = httpx.Client(
        transport=GuardedTransport(transport(context), [httpx.URL(base).host]),
        timeout=context.http.timeout,
        follow_redirects=False,
    )
    endpoint = TokenEndpoint(f"{base}{TOKEN_PATH}", str(client_id), secret, http)
    endpoint.clock = context.clock
    return endpoint


def build_auth(context: ConnectorContext) -> httpx.Auth:
    """Bearer auth for a bare session, renewing OAuth when there is a refresh token, and
    client-credentials sign-in when the credentials are a connected app's id and secret.
    """
    if not context.credentials.get("access_token"):
        secret = context.secret("client_secret")
        if context.credentials.get("client_id") and secret is not None:
            endpoint = token_endpoint(context)
            return ClientCredentialsAuth(
                endpoint.url, str(context.credentials["client_id"]), secret, endpoint.http
            )
        raise ConfigError(
            "Salesforce credentials need an access_token (connect through the OAuth flow) "
            "or a connected app's client_id and client_secret"
        )
    if not context.credentials.get("refresh_token"):
        return BearerAuth(str(context.credentials["access_token"]))
    store = context.token_store or local_store(context.integration_id)
    oauth = OAuth2Auth(
        stored_token(context.credentials),
        token_endpoint(context),
        store=store,
        on_refresh=context.on_refresh,
        clock=context.clock,
    )
    # a refresh may name another instance: follow it (connectors.salesforce.instance)
    return InstanceAuth(oauth, instance_url(context), context.base_url)
