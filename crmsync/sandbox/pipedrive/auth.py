"""Pipedrive credentials: the company's api_token and OAuth 2 (authorize, token, refresh)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

ACCESS_SECONDS = 3599
REFRESH_IDLE_SECONDS = 60 * 24 * 3600  # refresh tokens expire when unused for 60 days
CODE_SECONDS = 300


@dataclass
class Grant:
    """An issued access token with its refresh token."""

    access_token: str
    refresh_token: str
    expires_at: float


@dataclass
class OAuthServer:
    """The sandbox's OAuth server: one Marketplace app client and the tokens it issued."""

    clock: Callable[[], float]
    api_token: str = field(default_factory=lambda: secrets.token_hex(20))
    client_id: str = field(default_factory=lambda: secrets.token_hex(8))
    client_secret: str = field(default_factory=lambda: secrets.token_hex(20))
    codes: dict[str, tuple[str, float]] = field(default_factory=dict)  # code -> redirect, expiry
    access: dict[str, float] = field(default_factory=dict)  # token -> expiry
    refresh: dict[str, float] = field(default_factory=dict)  # token -> last use
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.codes.clear()
            self.access.clear()
            self.refresh.clear()

    def valid_access(self, token: str) -> bool:
        expiry = self.access.get(token)
        return expiry is not None and self.clock() < expiry

    def issue_code(self, redirect_uri: str) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = (redirect_uri, self.clock() + CODE_SECONDS)
        return code

    def exchange_code(self, code: str, redirect_uri: str) -> Grant | None:
        with self.lock:
            entry = self.codes.pop(code, None)
        if entry is None or entry[0] != redirect_uri or self.clock() >= entry[1]:
            return None
        return self._grant(secrets.token_hex(24))

    def use_refresh(self, refresh_token: str) -> Grant | None:
        with self.lock:
            last_use = self.refresh.get(refresh_token)
            if last_use is None or self.clock() - last_use > REFRESH_IDLE_SECONDS:
                return None
        # The refresh token stays the same; each use restarts its 60-day idle clock.
        return self._grant(refresh_token)

    def _grant(self, refresh_token: str) -> Grant:
        now = self.clock()
        token = f"v1u:{secrets.token_urlsafe(40)}"
        with self.lock:
            self.access[token] = now + ACCESS_SECONDS
            self.refresh[refresh_token] = now
        return Grant(token, refresh_token, now + ACCESS_SECONDS)

    def revoke(self, token: str) -> bool:
        """Revoke a refresh token (and the access tokens it issued) or one access token."""
        with self.lock:
            if self.refresh.pop(token, None) is not None:
                # the app's grant is gone: no access token of it keeps working
                self.access.clear()
                return True
            return self.access.pop(token, None) is not None
