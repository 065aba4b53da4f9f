"""OAuth client credentials: POST /v1/token with HTTP Basic and a JSON body; 1-hour tokens."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from crmsync.sandbox.totalexpert.errors import TotalExpertError

TOKEN_SECONDS = 3600
SCOPES = "leadInteraction loanInteraction leadOpportunitiesSalesPipelineInteraction"


@dataclass
class TokenIssuer:
    """The API client of the sandbox account and the access tokens issued to it."""

    clock: Callable[[], float]
    client_id: str = field(default_factory=lambda: secrets.token_hex(10))
    client_secret: str = field(default_factory=lambda: secrets.token_hex(24))
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, client: tuple[str, str] | None, grant_type: object) -> dict[str, object]:
        if client != (self.client_id, self.client_secret):
            raise TotalExpertError(400, "invalid_client", "The client credentials are invalid")
        if grant_type != "client_credentials":
            raise TotalExpertError(
                400,
                "unsupported_grant_type",
                f'Grant type "{grant_type}" not supported',
            )
        token = secrets.token_hex(20)
        with self.lock:
            self.tokens[token] = self.clock() + TOKEN_SECONDS
        return {
            "access_token": token,
            "expires_in": TOKEN_SECONDS,
            "token_type": "bearer",
            "scope": SCOPES,
        }

    def check(self, token: str | None) -> TotalExpertError | None:
        """None for a live token, else the 401 the API answers."""
        if not token:
            return TotalExpertError(401, "invalid_request", "No access token was provided")
        expiry = self.tokens.get(token)
        if expiry is None:
            return TotalExpertError(401, "invalid_token", "The access token provided is invalid")
        if self.clock() >= expiry:
            return TotalExpertError(401, "invalid_token", "The access token provided has expired")
        return None

    def reset(self) -> None:
        with self.lock:
            self.tokens.clear()

    def revoke_client(self) -> None:
        """The account admin replaced the API client's secret: its tokens stop working and
        the old secret is refused (``invalid_client``) from now on."""
        with self.lock:
            self.client_secret = secrets.token_hex(24)
            self.tokens.clear()
