"""HubSpot webhook deliveries: the v3 signature check and the event list.

``X-HubSpot-Signature-v3`` is ``base64(HMAC-SHA256(secret, METHOD + URI + body +
timestamp))`` with ``X-HubSpot-Request-Timestamp`` in milliseconds; deliveries older
than five minutes are refused so a captured one cannot be replayed later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

import orjson

from crmsync.connectors.base import RemoteChange
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.hubspot.mappers import to_changes

__all__ = ["MAX_AGE_SECONDS", "parse", "sign_v3", "verify_v3"]

MAX_AGE_SECONDS = 300
SIGNATURE = "x-hubspot-signature-v3"
TIMESTAMP = "x-hubspot-request-timestamp"


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The v3 signature of one delivery."""
    message = method.upper().encode() + unquote(uri).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_v3(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: Secret,
    uri: str,
    method: str = "POST",
    clock: Callable[[], float] = time.time,
) -> bool:
    """Whether the delivery is signed with ``secret`` for ``uri`` within five minutes."""
    lowered = {k.lower(): v for k, v in headers.items()}
    signature = lowered.get(SIGNATURE)
    stamp = lowered.get(TIMESTAMP, "")
    if not signature or not stamp.isdigit() or len(stamp) > 16:  # ms until year 318857
        return False
    if abs(clock() - int(stamp) / 1000) > MAX_AGE_SECONDS:
        return False
    expected = sign_v3(secret.reveal(), method, uri, body, stamp)
    return hmac.compare_digest(expected.encode(), signature.encode())


def parse(body: bytes) -> list[RemoteChange]:
    """The changes of a delivery (a JSON array of events, or one event)."""
    events: Any = orjson.loads(body)
    if isinstance(events, Mapping):
        events = [events]
    if not isinstance(events, list):
        return []
    return to_changes([e for e in events if isinstance(e, Mapping)])
