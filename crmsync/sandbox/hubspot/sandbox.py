"""The HubSpot sandbox: CRM v3 objects, search, properties, associations v4, OAuth,
rate limits with HubSpot's headers and 429 body, and signed, batched webhooks."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from crmsync.sandbox.base import HotHandler, ProviderSandbox, SampleRequest, SandboxOptions
from crmsync.sandbox.hubspot import errors, limits
from crmsync.sandbox.hubspot.associations_api import association_routes
from crmsync.sandbox.hubspot.batch import batch_routes, upsert_route
from crmsync.sandbox.hubspot.campaigns import Campaigns, campaign_routes
from crmsync.sandbox.hubspot.crm import Event, HubSpotCrm
from crmsync.sandbox.hubspot.oauth import TokenStore, oauth_routes
from crmsync.sandbox.hubspot.objects import object_routes
from crmsync.sandbox.hubspot.owners import owner_routes
from crmsync.sandbox.hubspot.pipelines import pipeline_routes
from crmsync.sandbox.hubspot.properties_api import property_routes
from crmsync.sandbox.hubspot.schema import resolve
from crmsync.sandbox.hubspot.search import SearchCaps
from crmsync.sandbox.hubspot.subscriptions import APP_TARGET, AppWebhooks, subscription_routes
from crmsync.sandbox.hubspot.webhooks import EventBatcher
from crmsync.sandbox.hubspot.workflows import Workflows, workflow_routes
from crmsync.sandbox.ratelimit import RateDecision
from crmsync.sandbox.webhooks import WebhookTarget


class HubSpotSandbox(ProviderSandbox):
    """An emulated HubSpot portal with one private app and one OAuth app.

    `clock` drives record timestamps and token expiry (tests pass a fake one);
    `retry_after` adds Retry-After to 429s (HubSpot does not document it);
    `search_caps` picks the filter-count limits.
    """

    name = "hubspot"
    rate_profiles = limits.RATE_PROFILES
    default_rate_profile = limits.DEFAULT_PROFILE
    exempt_prefixes = ("/oauth",)

    def __init__(
        self,
        options: SandboxOptions | None = None,
        *,
        clock: Callable[[], float] = time.time,
        retry_after: bool = True,
        search_caps: SearchCaps | None = None,
        batch_delay: float = 0.05,
    ) -> None:
        super().__init__(options)
        self.retry_after = retry_after
        self.search_caps = search_caps or SearchCaps()
        self.tokens = TokenStore(clock=clock)
        self.crm = HubSpotCrm(portal_id=self.tokens.hub_id, clock=clock, emit=self._on_event)
        self.batcher = EventBatcher(
            sender=self.webhooks,
            targets=self.webhook_targets,
            app_secret=self.tokens.client_secret,
            portal_id=self.tokens.hub_id,
            app_id=self.tokens.app_id,
            batch_delay=batch_delay,
            subscription_id=self._subscription_id,
        )
        self.app_webhooks = AppWebhooks(self.tokens.app_id, self.crm.now_ms)
        self.workflows = Workflows(clock)
        self.campaigns = Campaigns(clock)

    def routes(self) -> list[BaseRoute]:
        return [
            *oauth_routes(self.tokens),
            *batch_routes(self.crm),
            *object_routes(self.crm, self.search_caps),
            *property_routes(self.crm),
            *association_routes(self.crm),
            *pipeline_routes(self.crm.pipelines, self.crm.now_ms, self._object_name),
            *owner_routes(),
            *subscription_routes(self.app_webhooks, self._app_target_changed),
            *workflow_routes(self.workflows),
            *campaign_routes(self.campaigns),
        ]

    def _object_name(self, object_type: str) -> str:
        return self.crm.store(object_type).spec.name

    def reset(self) -> None:
        self.crm.reset()
        self.crm.listening = False
        self.tokens.forget_issued()
        self.batcher.clear()
        self.app_webhooks.clear()
        self.workflows.reset()
        self.campaigns.reset()

    def counts(self) -> dict[str, int]:
        return self.crm.counts()

    def user_change(
        self, object_type: str, record_id: str | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        spec = resolve(object_type)
        if spec is None:
            raise KeyError(f"unknown object type {object_type}")
        store = self.crm.stores[spec.name]
        found = None if record_id is None else store.get(record_id)
        if record_id is not None and found is None:
            raise KeyError(f"no {spec.singular} {record_id}")
        clean, problem = self.crm.check(store, fields, creating=found is None, current=found)
        if problem:
            raise ValueError(problem)
        if found is None:
            record = self.crm.create(store, clean, source="CRM_UI")
        else:
            record = found
            self.crm.update(store, record, clean, source="CRM_UI")
        return store.render(record, [*clean, *spec.default_properties])

    def credential(self) -> str:
        t = self.tokens
        return (
            f"token={t.private_token} client_id={t.client_id} client_secret={t.client_secret} "
            f"app_id={t.app_id} developer_api_key={t.developer_api_key}"
        )

    def register_webhook(self, target: WebhookTarget) -> dict[str, Any]:
        described = super().register_webhook(target)
        self.crm.listening = True
        return described

    def check_auth(self, request: Request) -> Response | None:
        if request.scope["path"].startswith("/webhooks/"):  # developer API key, not a token
            if request.query_params.get("hapikey") == self.tokens.developer_api_key:
                return None
            return errors.unauthorized()
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return errors.unauthorized()
        status = self.tokens.status(token.strip())
        if status == "ok":
            return None
        return errors.unauthorized(expired=status == "expired")

    def rate_bucket(self, method: str, path: str) -> str:
        return limits.SEARCH if path.endswith("/search") else "default"

    def rate_headers(self, decision: RateDecision) -> dict[str, str]:
        return limits.rate_headers(decision)

    def throttled_response(self, decision: RateDecision) -> Response:
        return limits.throttled(decision, self.retry_after)

    def error_response(self, status: int) -> Response:
        return errors.error_response(
            status,
            "INTERNAL_ERROR" if status == 500 else "SERVICE_UNAVAILABLE",
            "internal error" if status == 500 else "The service is temporarily unavailable",
        )

    def not_found_response(self, method: str, path: str) -> Response:
        return errors.error_response(404, "OBJECT_NOT_FOUND", f"No route for {method} {path}")

    def hot_route(self, method: str, path: str) -> HotHandler | None:
        return upsert_route(self.crm, path) if method == "POST" else None

    def upsert_request(self, seq: int, variant: int = 0) -> SampleRequest:
        inputs = [
            {
                "id": f"bench{seq * 100 + i}@example.com",
                "idProperty": "email",
                "properties": {
                    "firstname": f"First{i}",
                    "lastname": f"Last{seq}-{variant}",
                    "phone": f"+1 555 {seq % 10000:04d}",
                    "company": "Bench Inc",
                },
            }
            for i in range(100)
        ]
        return SampleRequest(
            "POST",
            "/crm/v3/objects/contacts/batch/upsert",
            {
                "Authorization": f"Bearer {self.tokens.private_token}",
                "Content-Type": "application/json",
            },
            orjson.dumps({"inputs": inputs}),
            records=100,
        )

    def state_extra(self) -> dict[str, Any]:
        return {
            "hubspot": {
                "portal_id": self.tokens.hub_id,
                "app_id": self.tokens.app_id,
                "client_id": self.tokens.client_id,
                "events_pending": self.batcher.pending(),
            }
        }

    def _app_target_changed(self) -> None:
        self.webhook_targets[:] = [t for t in self.webhook_targets if t.target_id != APP_TARGET]
        target = self.app_webhooks.target()
        if target is not None:
            self.webhook_targets.append(target)
            self.crm.listening = True

    def _subscription_id(self, target: WebhookTarget, event: Event) -> int:
        if target.target_id == APP_TARGET:
            return self.app_webhooks.subscription_id(event.subscription_type, event.property_name)
        return int(target.target_id or 0)

    def _on_event(self, event: Event) -> None:
        if self.webhook_targets:
            self.batcher.on_event(event)
