"""The app's webhook configuration, `/webhooks/v3/{appId}/settings|subscriptions`.

As on HubSpot, an app has one target URL (settings) and a list of subscriptions
(`contact.creation`, `contact.propertyChange` for one `propertyName`, ...; for the
custom object, the generic `object.creation`, `object.propertyChange`...). Together
they form one webhook target (id ``app``); these endpoints authenticate with the
developer API key in the ``hapikey`` query parameter.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import SandboxError, json_response
from crmsync.sandbox.hubspot import errors
from crmsync.sandbox.hubspot.objects import body_of
from crmsync.sandbox.hubspot.schema import OBJECTS
from crmsync.sandbox.timefmt import iso_ms
from crmsync.sandbox.webhooks import WebhookTarget, loopback_url

APP_TARGET = "app"
KINDS = (
    "creation",
    "deletion",
    "propertyChange",
    "merge",
    "restore",
    "associationChange",
    "privacyDeletion",
)
# legacy names per HubSpot object (contact.creation…); a custom object has only the
# generic ones (object.creation…, naming the object by objectTypeId in each event)
EVENT_TYPES = {
    f"{spec.event_prefix}.{kind}"
    for spec in OBJECTS.values()
    for kind in KINDS
    if not (spec.custom and kind == "privacyDeletion")
}


@dataclass
class Subscription:
    """One subscribed event type (with a property for propertyChange)."""

    id: int
    event_type: str
    property_name: str | None
    active: bool
    created_ms: int
    updated_ms: int

    @property
    def key(self) -> str:
        """The event name a target listens to, ``type`` or ``type:property``."""
        return f"{self.event_type}:{self.property_name}" if self.property_name else self.event_type

    def to_json(self) -> dict[str, Any]:
        """`SubscriptionResponse`."""
        return {
            "id": str(self.id),
            "eventType": self.event_type,
            "propertyName": self.property_name,
            "active": self.active,
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.updated_ms),
        }


@dataclass
class AppWebhooks:
    """Settings and subscriptions of the sandbox's app."""

    app_id: int
    now_ms: Callable[[], int]
    target_url: str | None = None
    max_concurrent: int = 10
    settings_ms: tuple[int, int] = (0, 0)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def target(self) -> WebhookTarget | None:
        """The delivery target these settings describe (None if incomplete)."""
        keys = tuple(s.key for s in self.subscriptions.values() if s.active)
        if not self.target_url or not keys:
            return None
        return WebhookTarget(url=self.target_url, events=keys, target_id=APP_TARGET)

    def subscription_id(self, subscription_type: str, property_name: str | None) -> int:
        """The id of the subscription an event was delivered for (0 if none)."""
        for sub in self.subscriptions.values():
            if sub.event_type == subscription_type and sub.property_name in (None, property_name):
                return sub.id
        return 0

    def settings_json(self) -> dict[str, Any]:
        """`SettingsResponse`."""
        return {
            "targetUrl": self.target_url,
            "throttling": {"maxConcurrentRequests": self.max_concurrent},
            "createdAt": iso_ms(self.settings_ms[0]),
            "updatedAt": iso_ms(self.settings_ms[1]),
        }

    def clear(self) -> None:
        """No settings, no subscriptions."""
        self.target_url = None
        self.subscriptions.clear()


def subscription_routes(app: AppWebhooks, changed: Callable[[], None]) -> list[BaseRoute]:
    """Settings and subscription endpoints; `changed` re-derives the delivery target."""

    def check_app(request: Request) -> None:
        if request.path_params["app_id"] != str(app.app_id):
            raise SandboxError(errors.error_response(404, "OBJECT_NOT_FOUND", "Unknown app"))

    def subscription(request: Request) -> Subscription:
        check_app(request)
        sub = app.subscriptions.get(int(request.path_params["sub_id"]))
        if sub is None:
            raise SandboxError(errors.error_response(404, "OBJECT_NOT_FOUND", "No subscription"))
        return sub

    async def read_settings(request: Request) -> Response:
        check_app(request)
        if app.target_url is None:
            return errors.error_response(404, "OBJECT_NOT_FOUND", "No webhook settings")
        return json_response(app.settings_json())

    async def put_settings(request: Request) -> Response:
        check_app(request)
        body = await body_of(request)
        url = body.get("targetUrl")
        if not isinstance(url, str) or not loopback_url(url):
            raise errors.validation("targetUrl must be an http(s) URL on this machine")
        now = app.now_ms()
        app.settings_ms = (app.settings_ms[0] or now, now)
        app.target_url = url
        throttling = body.get("throttling") or {}
        app.max_concurrent = int(throttling.get("maxConcurrentRequests", app.max_concurrent))
        changed()
        return json_response(app.settings_json())

    async def delete_settings(request: Request) -> Response:
        check_app(request)
        app.target_url = None
        changed()
        return Response(status_code=204)

    async def list_subscriptions(request: Request) -> Response:
        check_app(request)
        return json_response({"results": [s.to_json() for s in app.subscriptions.values()]})

    async def create_subscription(request: Request) -> Response:
        check_app(request)
        body = await body_of(request)
        event_type = body.get("eventType")
        if event_type not in EVENT_TYPES:
            raise errors.validation(f"Unknown eventType {event_type!r}")
        prop = body.get("propertyName")
        if event_type.endswith(".propertyChange") and not prop:
            raise errors.validation("propertyName is required for propertyChange subscriptions")
        now = app.now_ms()
        sub = Subscription(
            next(app._ids), event_type, prop, bool(body.get("active", True)), now, now
        )
        app.subscriptions[sub.id] = sub
        changed()
        return json_response(sub.to_json(), status=201)

    async def read_subscription(request: Request) -> Response:
        return json_response(subscription(request).to_json())

    async def patch_subscription(request: Request) -> Response:
        sub = subscription(request)
        body = await body_of(request)
        sub.active = bool(body.get("active", sub.active))
        sub.updated_ms = app.now_ms()
        changed()
        return json_response(sub.to_json())

    async def delete_subscription(request: Request) -> Response:
        sub = subscription(request)
        del app.subscriptions[sub.id]
        changed()
        return Response(status_code=204)

    base = "/webhooks/v3/{app_id}"
    one = base + "/subscriptions/{sub_id:int}"
    return [
        Route(base + "/settings", read_settings, methods=["GET"]),
        Route(base + "/settings", put_settings, methods=["PUT"]),
        Route(base + "/settings", delete_settings, methods=["DELETE"]),
        Route(base + "/subscriptions", list_subscriptions, methods=["GET"]),
        Route(base + "/subscriptions", create_subscription, methods=["POST"]),
        Route(one, read_subscription, methods=["GET"]),
        Route(one, patch_subscription, methods=["PATCH"]),
        Route(one, delete_subscription, methods=["DELETE"]),
    ]
