"""Webhook subscriptions (/v1/webhooks) and the v1 / v2 payloads Pipedrive delivers."""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from crmsync.sandbox.pipedrive.envelope import PipedriveError
from crmsync.sandbox.pipedrive.kinds import BY_SINGULAR, Kind
from crmsync.sandbox.pipedrive.render import COMPANY_ID, USER, v1, v1_time, v2
from crmsync.sandbox.pipedrive.store import Change
from crmsync.sandbox.webhooks import WebhookMessage

ACTIONS = ("create", "change", "delete", "*")
V1_ACTIONS = {"added": "create", "updated": "change", "deleted": "delete", "merged": "change"}
V1_VERBS = {"create": "added", "change": "updated", "delete": "deleted"}
OBJECTS = (*BY_SINGULAR, "pipeline", "product", "stage", "user", "*")
MAX_PER_USER = 40


@dataclass
class Subscription:
    """One registered webhook."""

    id: int
    url: str
    action: str
    obj: str
    version: str
    user: str | None
    password: str | None
    name: str
    add_time: float

    def wants(self, change: Change) -> bool:
        return self.action in ("*", change.action) and self.obj in ("*", change.kind.singular)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "company_id": COMPANY_ID,
            "owner_id": USER["id"],
            "user_id": USER["id"],
            "event_action": self.action,
            "event_object": self.obj,
            "subscription_url": self.url,
            "version": self.version,
            "is_active": 1,
            "add_time": v1_time(self.add_time),
            "remove_time": None,
            "type": "general",
            "http_auth_user": self.user,
            "http_auth_password": self.password,
            "remove_reason": None,
            "last_delivery_time": None,
            "last_http_status": None,
            "admin_id": USER["id"],
            "name": self.name,
        }


@dataclass
class WebhookRegistry:
    """Subscriptions of the company, and the messages one change produces."""

    clock: Callable[[], float]
    default_version: str = "2.0"
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1

    def reset(self) -> None:
        with self.lock:
            self.subscriptions.clear()
            self._next_id = 1

    def add(self, body: Any) -> Subscription:
        if not isinstance(body, dict):
            raise PipedriveError(400, "Request body must be a JSON object")
        url = body.get("subscription_url")
        errors: dict[str, list[str]] = {}
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            errors["subscription_url"] = ["invalid or non-reachable URL"]
        action = V1_ACTIONS.get(str(body.get("event_action")), body.get("event_action"))
        if action not in ACTIONS:
            errors["event_action"] = ["must be one of: " + ", ".join(ACTIONS)]
        if body.get("event_object") not in OBJECTS:
            errors["event_object"] = ["must be one of: " + ", ".join(OBJECTS)]
        version = str(body.get("version", self.default_version))
        if version not in ("1.0", "2.0"):
            errors["version"] = ["must be 1.0 or 2.0"]
        if errors:
            body = {"status": "error", "success": False, "errors": errors}
            raise PipedriveError(400, "Validation failed", body)
        with self.lock:
            if len(self.subscriptions) >= MAX_PER_USER:
                raise PipedriveError(400, "Webhooks limit reached (40 per user)")
            sub = Subscription(
                id=self._next_id,
                url=str(url),
                action=str(action),
                obj=str(body["event_object"]),
                version=version,
                user=body.get("http_auth_user"),
                password=body.get("http_auth_password"),
                name=str(body.get("name") or "")[:255],
                add_time=self.clock(),
            )
            self.subscriptions[sub.id] = sub
            self._next_id += 1
        return sub

    def remove(self, webhook_id: int) -> bool:
        with self.lock:
            return self.subscriptions.pop(webhook_id, None) is not None

    def messages(
        self, change: Change, host: str, extra: list[Subscription]
    ) -> list[WebhookMessage]:
        out = []
        for sub in [*self.subscriptions.values(), *extra]:
            if not sub.wants(change):
                continue
            build = payload_v2 if sub.version == "2.0" else payload_v1
            body = orjson.dumps(build(change, sub, host, self.clock()))
            headers = {"User-Agent": "Pipedrive-Webhook"}
            if sub.user is not None:
                pair = f"{sub.user}:{sub.password or ''}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
            event = f"{change.action}.{change.kind.singular}"
            out.append(WebhookMessage(url=sub.url, body=body, headers=headers, event=event))
        return out


def _shape(kind: Kind, record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return v2(kind, record) if kind.has_v2 else v1(kind, record)


def payload_v2(change: Change, sub: Subscription, host: str, now: float) -> dict[str, Any]:
    record = change.current or change.previous or {}
    previous: dict[str, Any] | None = None
    if change.action == "delete":
        previous = _shape(change.kind, change.previous)
    elif change.action == "change" and change.previous is not None:
        previous = _changed_fields(change)
    stamp = v1_time(now).replace(" ", "T") + f".{int(now * 1000) % 1000:03d}Z"
    return {
        "meta": {
            "action": change.action,
            "entity": change.kind.singular,
            "entity_id": str(record.get("id")),
            "id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
            "company_id": str(COMPANY_ID),
            "user_id": str(USER["id"]),
            "is_bulk_edit": False,
            "timestamp": stamp,
            "type": "general",
            "version": "2.0",
            "webhook_id": str(sub.id),
            "webhook_owner_id": str(USER["id"]),
            "change_source": change.source,
            "permitted_user_ids": [str(USER["id"])],
            "attempt": 1,
            "host": host,
        },
        "data": _shape(change.kind, change.current),
        "previous": previous,
    }


def _changed_fields(change: Change) -> dict[str, Any]:
    """The old values of the fields that changed, in the v2 field names."""
    previous = change.previous or {}
    out: dict[str, Any] = {}
    for name, value in previous.items():
        if name == "custom_fields":
            current = (change.current or {}).get("custom_fields", {})
            out["custom_fields"] = {
                k: value.get(k) for k in set(value) | set(current) if value.get(k) != current.get(k)
            }
        else:
            out[name] = value
    return out


def payload_v1(change: Change, sub: Subscription, host: str, now: float) -> dict[str, Any]:
    record = change.current or change.previous or {}
    verb = V1_VERBS[change.action]
    previous = change.previous
    if change.action == "change" and change.current is not None and previous is not None:
        previous = {**change.current, **previous}  # v1 sends the whole previous object
    return {
        "v": 1,
        "matches_filters": {"current": [], "previous": []},
        "meta": {
            "v": 1,
            "action": verb,
            "object": change.kind.singular,
            "id": record.get("id"),
            "company_id": COMPANY_ID,
            "user_id": USER["id"],
            "host": host,
            "timestamp": int(now),
            "timestamp_micro": int(now * 1_000_000),
            "permitted_user_ids": [USER["id"]],
            "trans_pending": False,
            "is_bulk_update": False,
            "pipedrive_service_name": False,
            "change_source": change.source,
            "webhook_id": str(sub.id),
        },
        "current": None if change.current is None else v1(change.kind, change.current),
        "previous": None if previous is None else v1(change.kind, previous),
        "event": f"{verb}.{change.kind.singular}",
        "retry": 0,
    }
