"""Webhook subscriptions (/v1/webhook-subscriptions) and the notifications they receive.

A notification is `{"item", "action", "id", "hashValue", "secret"}`: the receiver
checks the shared secret echoed in the body, and the same hashValue as last time
means nothing really changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.totalexpert import paging
from crmsync.sandbox.totalexpert.api_contacts import Handler, Wrap
from crmsync.sandbox.totalexpert.bodies import json_body, location
from crmsync.sandbox.totalexpert.errors import TotalExpertError, json_response, not_found
from crmsync.sandbox.webhooks import WebhookMessage

ACTIONS: dict[str, tuple[str, ...]] = {
    "CONTACT": ("CREATED", "UPDATED", "DELETED", "ARCHIVED"),
    "CONTACT_NOTE": ("CREATED", "UPDATED", "DELETED"),
}
MAX_SECRET = 255
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Subscriptions:
    """Registered subscriptions. `https_only` False also accepts http loopback URLs."""

    https_only: bool = False
    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1

    def reset(self) -> None:
        with self.lock:
            self.items.clear()
            self._next_id = 1

    def _url(self, url: Any) -> str:
        parts = urlsplit(str(url or ""))
        local_http = parts.scheme == "http" and parts.hostname in _LOOPBACK
        if parts.scheme != "https" and (self.https_only or not local_http):
            raise TotalExpertError(422, "url must be an HTTPS URL")
        return str(url)

    def _actions(self, raw: Any) -> list[dict[str, str]]:
        if not isinstance(raw, list):
            raise TotalExpertError(422, "actions must be a list of {action, item}")
        out = []
        for entry in raw:
            item = entry.get("item") if isinstance(entry, Mapping) else None
            action = entry.get("action") if isinstance(entry, Mapping) else None
            if action not in ACTIONS.get(str(item), ()):
                raise TotalExpertError(422, f"Unknown webhook action {action!r} for {item!r}")
            out.append({"action": str(action), "item": str(item)})
        return out

    def add(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise TotalExpertError(400, "Malformed JSON: expected an object")
        secret = str(body.get("secret") or "")
        if not secret or len(secret) > MAX_SECRET:
            raise TotalExpertError(422, "secret is required (at most 255 characters)")
        sub: dict[str, Any] = {"url": self._url(body.get("url")), "secret": secret}
        sub["actions"] = self._actions(body.get("actions"))
        with self.lock:
            sub["id"] = self._next_id
            self._next_id += 1
            self.items[sub["id"]] = sub
        return sub

    def get(self, sub_id: Any) -> dict[str, Any]:
        sub = self.items.get(int(sub_id)) if str(sub_id).isdigit() else None
        if sub is None:
            raise not_found("Webhook subscription")
        return sub

    def patch(self, sub_id: Any, body: Any) -> None:
        if not isinstance(body, Mapping):
            raise TotalExpertError(400, "Malformed JSON: expected an object")
        sub = self.get(sub_id)
        if "url" in body:
            sub["url"] = self._url(body["url"])
        if "secret" in body:
            if not body["secret"] or len(str(body["secret"])) > MAX_SECRET:
                raise TotalExpertError(422, "secret is required (at most 255 characters)")
            sub["secret"] = str(body["secret"])
        added = self._actions(body.get("actions", []))
        removed = self._actions(body.get("remove_actions", []))
        sub["actions"] = [a for a in sub["actions"] + added if a not in removed]
        sub["actions"] = [a for n, a in enumerate(sub["actions"]) if a not in sub["actions"][:n]]

    def messages(
        self,
        item: str,
        action: str,
        record_id: int,
        digest: Callable[[], str],
        extra: list[dict[str, Any]],
    ) -> list[WebhookMessage]:
        out = []
        hash_value = ""
        for sub in [*self.items.values(), *extra]:
            if {"action": action, "item": item} not in sub["actions"]:
                continue
            hash_value = hash_value or digest()
            body = {
                "item": item,
                "action": action,
                "id": record_id,
                "hashValue": hash_value,
                "secret": sub["secret"],
            }
            out.append(
                WebhookMessage(url=sub["url"], body=orjson.dumps(body), event=f"{item}.{action}")
            )
        return out


def _public(sub: dict[str, Any]) -> dict[str, Any]:
    return {"id": sub["id"], "url": sub["url"], "actions": sub["actions"]}


def routes(subs: Subscriptions, wrap: Wrap) -> list[Route]:
    async def actions(request: Request) -> Response:
        rows = [{"action": a, "item": i} for i, names in ACTIONS.items() for a in names]
        return json_response(paging.page(rows, request.query_params, dict))

    async def list_subs(request: Request) -> Response:
        rows = sorted(subs.items.values(), key=lambda s: s["id"])
        return json_response(paging.page(rows, request.query_params, _public))

    async def create(request: Request) -> Response:
        sub = subs.add(await json_body(request))
        url = location(request, f"/v1/webhook-subscriptions/{sub['id']}")
        return json_response({"created": url, "id": sub["id"]}, 201)

    async def get(request: Request) -> Response:
        return json_response(_public(subs.get(request.path_params["id"])))

    async def patch(request: Request) -> Response:
        subs.patch(request.path_params["id"], await json_body(request))
        return json_response([])

    async def delete(request: Request) -> Response:
        subs.items.pop(subs.get(request.path_params["id"])["id"])
        return json_response([])

    table: list[tuple[str, Handler, str]] = [
        ("/v1/webhook-actions", actions, "GET"),
        ("/v1/webhook-subscriptions", list_subs, "GET"),
        ("/v1/webhook-subscriptions", create, "POST"),
        ("/v1/webhook-subscriptions/{id}", get, "GET"),
        ("/v1/webhook-subscriptions/{id}", patch, "PATCH"),
        ("/v1/webhook-subscriptions/{id}", delete, "DELETE"),
    ]
    return [Route(path, wrap(fn), methods=[method]) for path, fn, method in table]
