"""Where shared HTTP state lives: this process by default, Redis when a URL is configured.

Rate windows and OAuth token caches must be shared by every client of an integration.
Without ``CRMSYNC_REDIS_URL`` that means process-wide objects; with it, Redis, so every
worker host spends the same budget and only one host refreshes a token.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from crmsync.connectors.http.ratelimit import MemoryWindows, WindowBackend
from crmsync.connectors.http.redis_windows import RedisWindows
from crmsync.connectors.http.tokens import (
    RedisTokenStore,
    TokenSealer,
    TokenStore,
    local_store,
)

__all__ = ["SharedState", "shared_state"]

_PROCESS_WINDOWS = MemoryWindows()
_redis_clients: dict[str, Any] = {}
_guard = threading.Lock()


@dataclass(frozen=True, slots=True)
class SharedState:
    """Factory of the rate-window backend and token stores for one deployment."""

    redis: Any = None  # a redis.Redis client, or None for in-process state

    def windows(self) -> WindowBackend:
        """The rate-window backend every limiter of this deployment should use."""
        if self.redis is None:
            return _PROCESS_WINDOWS
        return RedisWindows(self.redis)

    def token_store(self, integration_id: object, sealer: TokenSealer) -> TokenStore:
        """The token store of one integration (the sealer encrypts what leaves the process)."""
        if self.redis is None:
            return local_store(integration_id)
        return RedisTokenStore(self.redis, integration_id, sealer)


def shared_state(redis_url: str | None) -> SharedState:
    """In-process state when ``redis_url`` is empty, else Redis (one client per URL)."""
    if not redis_url:
        return SharedState()
    import redis

    with _guard:
        client = _redis_clients.get(redis_url)
        if client is None:
            client = _redis_clients[redis_url] = redis.Redis.from_url(redis_url)
    return SharedState(client)
