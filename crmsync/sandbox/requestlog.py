"""The request log a sandbox keeps for `/_sandbox/state`: what was called, and how
it was answered, without secrets (credential-bearing query values are masked)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

SECRET_PARAMS = frozenset(
    {
        "api_token",
        "hapikey",
        "access_token",
        "refresh_token",
        "client_secret",
        "code",
        "token",
        "password",
        "api_key",
        "apikey",
    }
)


def redact_query(query: str) -> str:
    """`query` with the values of credential parameters replaced by ``***``."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in pairs])


@dataclass
class RequestLog:
    """A bounded, thread-safe list of handled requests (newest last)."""

    maxlen: int = 5000
    total: int = 0
    _entries: deque[dict[str, Any]] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._entries = deque(maxlen=self.maxlen)

    def add(
        self,
        method: str,
        path: str,
        query: bytes,
        status: int,
        started: float,
        fault: str | None,
    ) -> None:
        """Record one answered (or dropped, status 0) request."""
        entry = {
            "method": method,
            "path": path,
            "query": redact_query(query.decode("latin-1")) if query else "",
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "fault": fault,
            "at": time.time(),
        }
        with self._lock:
            self._entries.append(entry)
            self.total += 1

    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest `limit` entries (all when None), oldest first."""
        with self._lock:
            items = list(self._entries)
        return items if limit is None else items[-limit:]

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self.total = 0
