"""A provider's authorization-code OAuth app (with PKCE or not), driven by its data.

HubSpot, Salesforce and Pipedrive differ only in data: where the consent page and the
token endpoint are (on the API's host, on a login host, or on a host of their own for
the real API while an emulator serves both beside its API), the scopes asked for,
whether PKCE is taken, how the client authenticates to the token endpoint, and which
error hooks read its refusals. ``OAuthApp`` holds that data; the consent URL, the
token endpoint and the renewing auth of a connected integration are built here once.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode

import httpx

from crmsync.connectors.context import ConnectorContext, stored_token
from crmsync.connectors.errors import ClassifierHook, ConfigError
from crmsync.connectors.http.error_hooks import oauth_errors
from crmsync.connectors.http.guard import GuardedTransport
from crmsync.connectors.http.oauth import ClientCredentialsAuth, OAuth2Auth
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.token_endpoint import TokenEndpoint
from crmsync.connectors.http.tokens import local_store

__all__ = ["OAuthApp", "base_transport", "client_credentials_auth", "token_client"]


def base_transport(given: httpx.BaseTransport | None, verify: bool | str) -> httpx.BaseTransport:
    """The injected transport, or TLS that trusts ``verify`` (a CA file path or a flag)."""
    if given is not None:
        return given
    if isinstance(verify, str):
        return httpx.HTTPTransport(verify=ssl.create_default_context(cafile=verify))
    return httpx.HTTPTransport(verify=verify)


def token_client(
    base_url: str, transport: httpx.BaseTransport | None, verify: bool | str, timeout: float
) -> httpx.Client:
    """A client for a token endpoint that may reach its host only and follows no redirect."""
    return httpx.Client(
        transport=GuardedTransport(base_transport(transport, verify), [httpx.URL(base_url).host]),
        timeout=timeout,
        follow_redirects=False,
    )


def client_credentials_auth(context: ConnectorContext, endpoint: TokenEndpoint) -> OAuth2Auth:
    """The client-credentials sign-in of an integration (Salesforce connected apps, Total
    Expert): a stored token is used until it expires, then the client asks again."""
    credentials = context.credentials
    return ClientCredentialsAuth(
        endpoint,
        stored_token(credentials) if credentials.get("access_token") else None,
        store=context.token_store or local_store(context.integration_id),
        on_refresh=context.on_refresh,
        clock=context.clock,
    )


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """One provider's authorization-code flow.

    The consent page is ``authorize_path`` and the token endpoint ``token_path`` on the
    integration's base URL, except when that base URL is the real API's (``api_url``):
    then the consent page is on ``consent_host`` and the token endpoint on
    ``token_host`` where those are given.
    """

    label: str
    settings_name: str  # CRMSYNC_<SETTINGS_NAME>_CLIENT_ID / _CLIENT_SECRET
    authorize_path: str
    token_path: str
    scopes: tuple[str, ...] = ()
    pkce: bool = True
    response_type: bool = False  # send response_type=code (Salesforce asks for it)
    api_url: str | None = None
    consent_host: str | None = None
    token_host: str | None = None
    client_auth: Literal["body", "basic"] = "body"
    hooks: tuple[ClassifierHook, ...] = field(default=(oauth_errors,))
    # said when no client id and secret are configured, after the settings' names
    missing_hint: str = ""

    def _on(self, base_url: str, host: str | None) -> str:
        base = base_url.rstrip("/")
        return host if host is not None and base == self.api_url else base

    def authorize_url(
        self,
        base_url: str,
        client_id: str,
        redirect_uri: str,
        state: str,
        code_challenge: str | None,
    ) -> str:
        """Where to send the user to approve the app."""
        query = {"response_type": "code"} if self.response_type else {}
        query |= {"client_id": client_id, "redirect_uri": redirect_uri}
        if self.scopes:
            query["scope"] = " ".join(self.scopes)
        query["state"] = state
        if code_challenge and self.pkce:
            query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self._on(base_url, self.consent_host)}{self.authorize_path}?{urlencode(query)}"

    def token_endpoint(
        self,
        base_url: str,
        client_id: str | None,
        client_secret: Secret | None,
        *,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str = True,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> TokenEndpoint:
        """The token endpoint, on a client that may reach its host only."""
        if not client_id or not client_secret:
            upper = self.settings_name.upper()
            raise ConfigError(
                f"{self.label} OAuth needs CRMSYNC_{upper}_CLIENT_ID and "
                f"CRMSYNC_{upper}_CLIENT_SECRET{self.missing_hint}"
            )
        base = self._on(base_url, self.token_host)
        return TokenEndpoint(
            f"{base}{self.token_path}",
            client_id,
            client_secret,
            token_client(base, transport, verify, timeout),
            self.client_auth,
            clock=clock,
            hooks=self.hooks,
        )

    def context_endpoint(
        self,
        context: ConnectorContext,
        client_id: str | None = None,
        client_secret: Secret | None = None,
    ) -> TokenEndpoint:
        """The token endpoint of an integration; the client is the deployment's OAuth app
        unless another is given."""
        return self.token_endpoint(
            context.base_url,
            client_id or context.client_id,
            client_secret or context.client_secret,
            transport=context.transport,
            verify=context.verify,
            timeout=context.http.timeout,
            clock=context.clock,
        )

    def renewing_auth(
        self,
        context: ConnectorContext,
        client_id: str | None = None,
        client_secret: Secret | None = None,
    ) -> OAuth2Auth:
        """Bearer auth for a connected integration, renewed with its refresh token; the
        client is the deployment's OAuth app unless another is given."""
        endpoint = self.context_endpoint(context, client_id, client_secret)
        return OAuth2Auth(
            stored_token(context.credentials),
            endpoint,
            store=context.token_store or local_store(context.integration_id),
            on_refresh=context.on_refresh,
            clock=context.clock,
        )
