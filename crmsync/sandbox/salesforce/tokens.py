"""Sessions and OAuth grants of the org: connected apps, codes, access and refresh tokens.

Access tokens look like Salesforce's (``<org id>!<random>``) and carry no lifetime in
the token response; they stop working after the org's session timeout
(`session_seconds`), answering INVALID_SESSION_ID. The default account token printed
by the CLI does not time out, so a user's session lasts as long as the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConnectedApp:
    """An OAuth client (consumer key and secret)."""

    client_id: str
    client_secret: str


@dataclass(frozen=True)
class AuthCode:
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    expires: float


@dataclass
class TokenBook:
    """Everything an org knows about who may call it."""

    org_id: str
    user_id: str
    session_seconds: float = 7200.0
    code_seconds: float = 900.0
    clock: Callable[[], float] = time.time
    apps: dict[str, ConnectedApp] = field(default_factory=dict)
    _codes: dict[str, AuthCode] = field(default_factory=dict)
    _access: dict[str, float | None] = field(default_factory=dict)
    _refresh: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        app = ConnectedApp("3MVG9" + secrets.token_urlsafe(60)[:80], secrets.token_hex(32))
        self.apps[app.client_id] = app
        self.default_app = app
        self.default_token = self._new_access(expires=None)

    def _new_access(self, expires: float | None) -> str:
        token = f"{self.org_id[:15]}!AQ" + secrets.token_urlsafe(72)[:94]
        with self._lock:
            self._access[token] = expires
        return token

    def is_valid(self, token: str) -> bool:
        """Whether `token` is a live session."""
        with self._lock:
            if token not in self._access:
                return False
            expires = self._access[token]
            if expires is not None and expires < self.clock():
                del self._access[token]
                return False
            return True

    def issue_code(
        self, client_id: str, redirect_uri: str, scope: str, code_challenge: str | None
    ) -> str:
        code = "aPrx" + secrets.token_urlsafe(48)
        with self._lock:
            self._codes[code] = AuthCode(
                client_id, redirect_uri, scope, code_challenge, self.clock() + self.code_seconds
            )
        return code

    def take_code(self, code: str) -> AuthCode | None:
        """The grant behind `code`, once (codes are single use), if not expired."""
        with self._lock:
            grant = self._codes.pop(code, None)
        if grant is None or grant.expires < self.clock():
            return None
        return grant

    def new_session(self, client_id: str, with_refresh: bool) -> tuple[str, str | None]:
        """A new access token (and refresh token when asked)."""
        access = self._new_access(self.clock() + self.session_seconds)
        if not with_refresh:
            return access, None
        refresh = "5Aep" + secrets.token_urlsafe(64)
        with self._lock:
            self._refresh[refresh] = client_id
        return access, refresh

    def refresh_client(self, refresh_token: str) -> str | None:
        """The client a refresh token was issued to, or None."""
        with self._lock:
            return self._refresh.get(refresh_token)

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token; False when unknown."""
        with self._lock:
            found = self._access.pop(token, False) is not False
            return self._refresh.pop(token, None) is not None or found

    def expire_sessions(self) -> None:
        """End every session but the default one (as if the timeout passed)."""
        with self._lock:
            self._access = {t: e for t, e in self._access.items() if e is None}


def signature(client_secret: str, identity_url: str, issued_at: str) -> str:
    """Salesforce's token ``signature``: base64 HMAC-SHA256 of id + issued_at."""
    digest = hmac.new(
        client_secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def pkce_matches(challenge: str, verifier: str) -> bool:
    """Whether `verifier` hashes to `challenge` (base64url SHA-256, no padding)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return hmac.compare_digest(expected, challenge.rstrip("="))
