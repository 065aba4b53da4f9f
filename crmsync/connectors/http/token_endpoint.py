"""An OAuth2 token endpoint: refresh grants and authorization-code exchange."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from crmsync.connectors.errors import ClassifierHook, ConfigError, classify
from crmsync.connectors.http.error_hooks import oauth_errors
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.http.tokens import TokenSet

__all__ = ["TokenEndpoint"]

# provider fields kept with the token (Salesforce instance_url, Pipedrive api_domain)
_EXTRAS = ("instance_url", "api_domain", "scope", "token_type")


@dataclass(slots=True)
class TokenEndpoint:
    """Posts grants to ``url``; the instance is a ``Refresher`` for ``OAuth2Auth``.

    Providers differ in two ways, both data: client credentials in the form body
    (HubSpot, Salesforce) or as HTTP Basic (Pipedrive, Total Expert), and a form or a
    JSON body (Total Expert).
    """

    url: str
    client_id: str
    client_secret: Secret
    http: httpx.Client
    client_auth: Literal["body", "basic"] = "body"
    body_format: Literal["form", "json"] = "form"
    default_lifetime: float | None = None
    clock: Callable[[], float] = time.time
    hooks: tuple[ClassifierHook, ...] = field(default=(oauth_errors,))

    def __call__(self, token: TokenSet) -> TokenSet:
        if token.refresh_token is None:
            raise ConfigError("token set has no refresh token")
        grant = {"grant_type": "refresh_token", "refresh_token": token.refresh_token.reveal()}
        return self._post(grant, previous=token)

    def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> TokenSet:
        """The token set for an authorization code (the OAuth callback)."""
        grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            grant["code_verifier"] = code_verifier
        return self._post(grant, previous=None)

    def client_credentials(self, previous: TokenSet | None = None) -> TokenSet:
        """A new token set for the client itself (no refresh token comes with it)."""
        return self._post({"grant_type": "client_credentials"}, previous=previous)

    def _post(self, grant: dict[str, str], previous: TokenSet | None) -> TokenSet:
        headers = {"Accept": "application/json"}
        secret = self.client_secret.reveal()
        if self.client_auth == "basic":
            pair = f"{self.client_id}:{secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            grant = {**grant, "client_id": self.client_id, "client_secret": secret}
        if self.body_format == "json":
            response = self.http.post(self.url, json=grant, headers=headers)
        else:
            response = self.http.post(self.url, data=grant, headers=headers)
        error = classify(response, self.hooks)
        if error is not None:
            raise error
        return self._parse(response.json(), previous)

    def _parse(self, body: Mapping[str, Any], previous: TokenSet | None) -> TokenSet:
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise ConfigError("token endpoint answered without an access_token")
        refresh = body.get("refresh_token")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if expires_in is not None else self.default_lifetime
        extras = dict(previous.extras) if previous else {}
        extras.update({k: str(body[k]) for k in _EXTRAS if body.get(k) is not None})
        kept = previous.refresh_token if previous is not None else None
        return TokenSet(
            access_token=Secret(access),
            refresh_token=Secret(refresh) if refresh else kept,
            expires_at=self.clock() + lifetime if lifetime is not None else None,
            extras=extras,
        )
