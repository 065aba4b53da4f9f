"""The generic REST CRM sandbox: API-key auth, leads and contacts, webhooks that
carry the shared secret in ``X-CRM-Secret`` and the event name in ``X-CRM-Event``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import (
    ProviderSandbox,
    SampleRequest,
    SandboxOptions,
    json_response,
    new_secret,
    read_json,
)
from crmsync.sandbox.generic.api import error, fail, record_routes
from crmsync.sandbox.generic.store import FIELDS, SINGULAR, GenericStore, Item, validate
from crmsync.sandbox.ratelimit import RateDecision, RateProfile, RateWindow, profiles
from crmsync.sandbox.timefmt import iso
from crmsync.sandbox.webhooks import WebhookMessage, WebhookTarget, loopback_url

EVENTS = tuple(f"{SINGULAR[r]}.{a}" for r in FIELDS for a in ("created", "updated", "deleted"))


class GenericSandbox(ProviderSandbox):
    """A small REST CRM whose only contract is its API and a shared secret."""

    name = "generic"
    rate_profiles = profiles(
        RateProfile("standard", (RateWindow("MINUTE", 600, 60.0),), "600 requests per minute"),
        RateProfile("strict", (RateWindow("MINUTE", 60, 60.0),), "60 requests per minute"),
    )
    default_rate_profile = "standard"

    def __init__(
        self, options: SandboxOptions | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(options)
        self.api_key = new_secret("gk_", 20)
        self.store = GenericStore(clock=clock)

    def routes(self) -> list[BaseRoute]:
        return [*self._webhook_routes(), *record_routes(self.store, self._notify)]

    def reset(self) -> None:
        self.store.reset()

    def counts(self) -> dict[str, int]:
        return self.store.counts()

    def user_change(
        self, object_type: str, record_id: str | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        if object_type not in FIELDS:
            raise KeyError(f"unknown resource {object_type}")
        problems = validate(object_type, fields, creating=record_id is None)
        if problems:
            raise ValueError(str(problems))
        if record_id is None:
            item = self.store.create(object_type, fields)
            self._notify(object_type, "created", item)
            return item.to_json()
        found = self.store.get(object_type, record_id)
        if found is None:
            raise KeyError(f"no {object_type} {record_id}")
        if self.store.update(object_type, found, fields):
            self._notify(object_type, "updated", found)
        return found.to_json()

    def credential(self) -> str:
        return f"api_key={self.api_key}"

    def check_auth(self, request: Request) -> Response | None:
        key = request.headers.get("x-api-key")
        if key is None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            key = token if scheme.lower() == "bearer" else None
        if key == self.api_key:
            return None
        return error(401, "unauthorized", "missing or invalid API key")

    def rate_headers(self, decision: RateDecision) -> dict[str, str]:
        usage = decision.usages[0]
        return {
            "X-RateLimit-Limit": str(usage.window.limit),
            "X-RateLimit-Remaining": str(usage.remaining),
            "X-RateLimit-Reset": str(int(usage.reset_seconds + 0.999)),
        }

    def throttled_response(self, decision: RateDecision) -> Response:
        response = error(429, "rate_limited", "too many requests")
        response.headers.update(
            {"Retry-After": str(decision.retry_after), **self.rate_headers(decision)}
        )
        return response

    def error_response(self, status: int) -> Response:
        return error(status, "server_error", "the server could not handle the request")

    def not_found_response(self, method: str, path: str) -> Response:
        return error(404, "not_found", f"no route for {method} {path}")

    def upsert_request(self, seq: int, variant: int = 0) -> SampleRequest:
        body = {
            "firstName": f"Bench{variant}",
            "lastName": f"L{seq}",
            "email": f"b{seq}@example.com",
        }
        return SampleRequest(
            "PUT",
            f"/api/v1/leads/by-reference/bench-{seq}",
            {"X-API-Key": self.api_key, "Content-Type": "application/json"},
            orjson.dumps(body),
        )

    def register_webhook(self, target: WebhookTarget) -> dict[str, Any]:
        if target.secret is None:
            target = WebhookTarget(target.url, new_secret("whsec_", 16), target.events)
        described = super().register_webhook(target)
        return {**described, "secret": target.secret, "createdAt": iso(self.store.clock())}

    def _notify(self, resource: str, action: str, item: Item) -> None:
        event = f"{SINGULAR[resource]}.{action}"
        targets = [t for t in self.webhook_targets if t.wants(event)]
        if not targets:
            return
        occurred = iso(self.store.clock())
        for target in targets:
            delivery = str(uuid.uuid4())
            body = {"id": delivery, "event": event, "occurredAt": occurred, "data": item.to_json()}
            headers = {
                "X-CRM-Event": event,
                "X-CRM-Secret": target.secret or "",
                "X-CRM-Delivery": delivery,
            }
            self.webhooks.enqueue(
                WebhookMessage(target.url, orjson.dumps(body), headers, event=event)
            )

    def _webhook_routes(self) -> list[BaseRoute]:
        async def create(request: Request) -> Response:
            body = await read_json(request)
            if not isinstance(body, dict) or not loopback_url(body.get("url")):
                raise fail(400, "validation_error", "url must be an http(s) URL on this machine")
            events = tuple(body.get("events") or ("*",))
            unknown = [e for e in events if e != "*" and e not in EVENTS]
            if unknown:
                raise fail(
                    400, "validation_error", f"unknown events {unknown}; known: {list(EVENTS)}"
                )
            secret = body.get("secret")
            target = WebhookTarget(str(body["url"]), str(secret) if secret else None, events)
            return json_response(self.register_webhook(target), status=201)

        async def list_hooks(request: Request) -> Response:
            return json_response({"data": [t.describe() for t in self.webhook_targets]})

        async def delete(request: Request) -> Response:
            hook_id = request.path_params["hook_id"]
            kept = [t for t in self.webhook_targets if t.target_id != hook_id]
            if len(kept) == len(self.webhook_targets):
                raise fail(404, "not_found", f"webhook {hook_id} not found")
            self.webhook_targets[:] = kept
            return Response(status_code=204)

        return [
            Route("/api/v1/webhooks", create, methods=["POST"]),
            Route("/api/v1/webhooks", list_hooks, methods=["GET"]),
            Route("/api/v1/webhooks/{hook_id}", delete, methods=["DELETE"]),
        ]
