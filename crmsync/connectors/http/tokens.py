"""OAuth token sets and where they are shared: one process, or every host via Redis."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from crmsync.connectors.http.secret import Secret

__all__ = [
    "LocalTokenStore",
    "RedisTokenStore",
    "TokenSealer",
    "TokenSet",
    "TokenStore",
    "local_store",
]


@dataclass(frozen=True, slots=True)
class TokenSet:
    """An access token, its refresh token and expiry (epoch seconds; ``None``: unknown)."""

    access_token: Secret
    refresh_token: Secret | None = None
    expires_at: float | None = None
    # provider extras kept with the token: instance_url, api_domain, scope
    extras: Mapping[str, str] = field(default_factory=dict)

    def expires_within(self, seconds: float, now: float) -> bool:
        """Whether the token expires less than ``seconds`` from ``now``."""
        return self.expires_at is not None and self.expires_at - now < seconds

    def to_json(self) -> str:
        """Plaintext JSON; only ever stored sealed."""
        return json.dumps(
            {
                "access_token": self.access_token.reveal(),
                "refresh_token": self.refresh_token.reveal() if self.refresh_token else None,
                "expires_at": self.expires_at,
                "extras": dict(self.extras),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> TokenSet:
        """Inverse of ``to_json``."""
        raw: dict[str, Any] = json.loads(text)
        refresh = raw.get("refresh_token")
        return cls(
            access_token=Secret(raw["access_token"]),
            refresh_token=Secret(refresh) if refresh else None,
            expires_at=raw.get("expires_at"),
            extras=raw.get("extras") or {},
        )


class TokenStore(Protocol):
    """The shared copy of an integration's token and the lock around refreshing it."""

    def load(self) -> TokenSet | None: ...

    def save(self, token: TokenSet) -> None: ...

    def refresh_lock(self) -> Any:
        """A context manager held while refreshing (single-flight)."""
        ...


class LocalTokenStore:
    """In-process store: single-flight across the threads of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: TokenSet | None = None

    def load(self) -> TokenSet | None:
        return self._token

    def save(self, token: TokenSet) -> None:
        self._token = token

    def refresh_lock(self) -> threading.Lock:
        return self._lock


_local_stores: dict[str, LocalTokenStore] = {}
_local_guard = threading.Lock()


def local_store(integration_id: object) -> LocalTokenStore:
    """The process-wide store of one integration, so all its clients share a refresh."""
    with _local_guard:
        return _local_stores.setdefault(str(integration_id), LocalTokenStore())


class TokenSealer(Protocol):
    """Encrypts the token before it leaves the process."""

    def seal(self, plaintext: str) -> str: ...

    def unseal(self, sealed: str) -> str: ...


class RedisTokenStore:
    """Shared token cache and refresh lock in Redis, keyed by integration id.

    The thread lock keeps a process's own threads off Redis while one of them refreshes;
    the Redis lock does the same for other hosts.
    """

    def __init__(
        self,
        redis: Any,
        integration_id: object,
        sealer: TokenSealer,
        *,
        lock_timeout: float = 30.0,
        prefix: str = "crmsync:oauth",
    ):
        self._redis = redis
        self._key = f"{prefix}:{integration_id}:token"
        self._lock_name = f"{prefix}:{integration_id}:refresh-lock"
        self._sealer = sealer
        self._lock_timeout = lock_timeout
        self._thread_lock = threading.Lock()

    def load(self) -> TokenSet | None:
        raw = self._redis.get(self._key)
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        return TokenSet.from_json(self._sealer.unseal(text))

    def save(self, token: TokenSet) -> None:
        self._redis.set(self._key, self._sealer.seal(token.to_json()))

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        with self._thread_lock:
            lock = self._redis.lock(
                self._lock_name,
                timeout=self._lock_timeout,
                blocking_timeout=self._lock_timeout,
                thread_local=False,
            )
            if not lock.acquire():
                raise TimeoutError("timed out waiting for another host's token refresh")
            try:
                yield
            finally:
                lock.release()
