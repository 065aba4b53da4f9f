"""HubSpot webhook delivery: events batched per target, signed v1 and v3.

Changes are collected for `batch_delay` seconds (or until 100 events) and POSTed
as one JSON array. Each POST carries ``X-HubSpot-Signature`` (v1: hex SHA-256 of
secret + body) with ``X-HubSpot-Signature-Version: v1``, and
``X-HubSpot-Signature-v3`` (base64 HMAC-SHA256 of method + URL + body + timestamp)
with ``X-HubSpot-Request-Timestamp`` in milliseconds. The secret is the target's
own, else the app's client secret. Targets subscribe with event names such as
``contact.creation``, ``contact.*`` or ``*``. The custom object's events are generic
(``object.creation``, ``object.propertyChange``…, matched by ``object.*`` too) and carry
its ``objectTypeId``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from crmsync.sandbox.hubspot.crm import Event
from crmsync.sandbox.webhooks import Signer, WebhookMessage, WebhookSender, WebhookTarget

MAX_BATCH = 100
USER_AGENT = "HubSpot Connect 2.0 (http://dev.hubspot.com/)"


def signature_v1(secret: str, body: bytes) -> str:
    """Hex SHA-256 of client secret + raw body."""
    return hashlib.sha256(secret.encode() + body).hexdigest()


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """Base64 HMAC-SHA256 of method + URI + body + timestamp keyed by the secret."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def signer(secret: str, url: str) -> Signer:
    """Per-attempt headers for one target (fresh v3 timestamp on each attempt)."""

    def sign(body: bytes, attempt: int) -> dict[str, str]:
        timestamp = str(int(time.time() * 1000))
        return {
            "X-HubSpot-Signature": signature_v1(secret, body),
            "X-HubSpot-Signature-Version": "v1",
            "X-HubSpot-Signature-v3": signature_v3(secret, "POST", url, body, timestamp),
            "X-HubSpot-Request-Timestamp": timestamp,
            "User-Agent": USER_AGENT,
        }

    return sign


def wants(target: WebhookTarget, event: Event) -> bool:
    """Exact names, ``type:property``, ``<object>.*`` and ``*`` match."""
    kind = event.subscription_type
    if target.wants(kind) or kind.split(".", 1)[0] + ".*" in target.events:
        return True
    return event.property_name is not None and f"{kind}:{event.property_name}" in target.events


@dataclass
class EventBatcher:
    """Turns `Event`s into batched, signed webhook POSTs."""

    sender: WebhookSender
    targets: list[WebhookTarget]
    app_secret: str
    portal_id: int
    app_id: int
    batch_delay: float = 0.05
    subscription_id: Callable[[WebhookTarget, Event], int] = lambda t, e: int(t.target_id or 0)
    _pending: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    _scheduled: set[str] = field(default_factory=set)
    _event_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def on_event(self, event: Event) -> None:
        """Queue `event` for every target subscribed to it."""
        for target in self.targets:
            if wants(target, event):
                self._queue(target, self._payload(event, target))

    def _payload(self, event: Event, target: WebhookTarget) -> dict[str, Any]:
        body: dict[str, Any] = {
            "eventId": next(self._event_ids),
            "subscriptionId": self.subscription_id(target, event),
            "portalId": self.portal_id,
            "appId": self.app_id,
            "occurredAt": event.occurred_at,
            "subscriptionType": event.subscription_type,
            "attemptNumber": 0,
            "objectId": int(event.object_id),
            "changeSource": event.change_source,
        }
        if event.subscription_type.endswith(".creation"):
            body["changeFlag"] = "NEW"
        if event.property_name is not None:
            body["propertyName"] = event.property_name
            body["propertyValue"] = event.property_value
        body.update(event.extra)
        return body

    def _queue(self, target: WebhookTarget, payload: dict[str, Any]) -> None:
        key = target.target_id
        self._pending[key].append(payload)
        if len(self._pending[key]) >= MAX_BATCH:
            self._flush(target)
            return
        if key in self._scheduled:
            return
        self._scheduled.add(key)
        self.sender.run_soon(
            lambda: asyncio.get_running_loop().call_later(self.batch_delay, self._flush, target)
        )

    def _flush(self, target: WebhookTarget) -> None:
        key = target.target_id
        self._scheduled.discard(key)
        events = self._pending.pop(key, [])
        if not events:
            return
        body = orjson.dumps(events)
        secret = target.secret or self.app_secret
        self.sender.enqueue(
            WebhookMessage(
                url=target.url,
                body=body,
                sign=signer(secret, target.url),
                event=",".join(sorted({e["subscriptionType"] for e in events})),
            )
        )

    def pending(self) -> int:
        """Events waiting for their batch to be sent."""
        return sum(len(v) for v in self._pending.values())

    def clear(self) -> None:
        """Drop queued events."""
        self._pending.clear()
