"""One fingerprint of JSON-like content, for every place that asks "is this the same?".

SHA-256 over canonical JSON (orjson, keys sorted at every depth, values JSON cannot hold
written as ``str``). It is what an event's idempotency check compares
(``events.service``), what a Link remembers of the last payload pushed
(``sync.outbound.payload_hash``) and, cut to ``size`` hex characters, what the change
cursors keep of each record at their boundary (Salesforce, Pipedrive, Total Expert).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

__all__ = ["fingerprint"]


def fingerprint(value: Any, size: int | None = None) -> str:
    """The hex SHA-256 of ``value``'s canonical JSON; its first ``size`` characters when
    given (16 are plenty to tell one version of a record from another)."""
    raw = orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(raw).hexdigest()[:size]
