"""HubSpot webhook deliveries: the v3 signature check and the event list.

``X-HubSpot-Signature-v3`` is ``base64(HMAC-SHA256(secret, METHOD + URI + body +
timestamp))`` with ``X-HubSpot-Request-Timestamp`` in milliseconds; deliveries older
than five minutes are refused so a captured one cannot be replayed later.

Events come in two forms. Legacy subscriptions name the object in the subscription type
(``contact.propertyChange``). Generic subscriptions, the only ones a custom object has,
use ``object.creation``, ``object.propertyChange``… and name the object by its
``objectTypeId`` (``0-1`` contacts; a custom object's ``2-…``), which an integration's
``config.custom_objects`` maps to the crmsync type it holds.
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
from crmsync.connectors.hubspot.mappers import object_of_event, to_changes

__all__ = ["GENERIC", "MAX_AGE_SECONDS", "OBJECT_OF_TYPE_ID", "parse", "sign_v3", "verify_v3"]

MAX_AGE_SECONDS = 300
SIGNATURE = "x-hubspot-signature-v3"
TIMESTAMP = "x-hubspot-request-timestamp"
# the subscription type prefix of generic events (``object.propertyChange``)
GENERIC = "object"
# objectTypeId -> object type, for HubSpot's own objects
OBJECT_OF_TYPE_ID: Mapping[str, str] = {
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-5": "tickets",
    "0-46": "notes",
}


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


def parse(body: bytes, custom_objects: Mapping[str, str] | None = None) -> list[RemoteChange]:
    """The changes of a delivery (a JSON array of events, or one event).

    ``custom_objects`` maps a custom object's objectTypeId (``2-…``) to the crmsync type
    it holds; events of other custom objects, and of unknown objects, are left out.
    """
    events: Any = orjson.loads(body)
    if isinstance(events, Mapping):
        events = [events]
    if not isinstance(events, list):
        return []
    custom = custom_objects or {}

    def object_of(event: Mapping[str, Any]) -> str | None:
        if not str(event.get("subscriptionType", "")).startswith(GENERIC + "."):
            return object_of_event(event)
        type_id = str(event.get("objectTypeId") or "")
        return OBJECT_OF_TYPE_ID.get(type_id) or custom.get(type_id)

    return to_changes([e for e in events if isinstance(e, Mapping)], object_of)
