"""Total Expert notifications: the subscription's shared secret, echoed in the body.

Total Expert signs nothing: each notification carries the ``secret`` given when the
subscription was made, which proves the sender knows it (TLS protects the body).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

import orjson

from crmsync.connectors.base import RemoteChange
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.totalexpert.mappers import to_changes

__all__ = ["parse", "verify_secret"]


def _event(body: bytes) -> Mapping[str, Any] | None:
    try:
        event: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return event if isinstance(event, Mapping) else None


def verify_secret(body: bytes, secret: Secret) -> bool:
    """Whether the notification carries ``secret`` (constant-time)."""
    event = _event(body)
    given = event.get("secret") if event is not None else None
    if not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(given.encode(), secret.reveal().encode())


def parse(body: bytes) -> list[RemoteChange]:
    """The change a notification reports."""
    event = _event(body)
    return to_changes(event) if event is not None else []
