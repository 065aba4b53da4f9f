"""The Pipedrive sandbox: wires the company state, APIs, OAuth, limits and webhooks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from crmsync.sandbox.base import ProviderSandbox, SampleRequest, SandboxOptions
from crmsync.sandbox.pipedrive import api_v1, api_v2, oauth
from crmsync.sandbox.pipedrive.auth import OAuthServer
from crmsync.sandbox.pipedrive.company import Company
from crmsync.sandbox.pipedrive.crud import Handler
from crmsync.sandbox.pipedrive.envelope import PipedriveError, error, error_body, json_response
from crmsync.sandbox.pipedrive.filters import filter_routes
from crmsync.sandbox.pipedrive.kinds import BY_SINGULAR, KINDS, PERSON, Kind
from crmsync.sandbox.pipedrive.ratelimit import (
    RATE_PROFILES,
    SEARCH_BUCKET,
    TokenBudget,
    cost,
    plan_of,
)
from crmsync.sandbox.pipedrive.render import v1, v2
from crmsync.sandbox.pipedrive.routing import RouteGroups
from crmsync.sandbox.pipedrive.store import Change
from crmsync.sandbox.pipedrive.webhooks import V1_VERBS, Subscription, WebhookRegistry
from crmsync.sandbox.ratelimit import RateDecision
from crmsync.sandbox.webhooks import WebhookMessage

log = logging.getLogger(__name__)
WEBHOOK_HOST = "sandbox.pipedrive.com"


class PipedriveSandbox(ProviderSandbox):
    """Pipedrive's v1 and v2 API for one company with one user.

    `clock` drives token expiry, timestamps and the daily budget (tests pass a fake);
    `webhook_version` is the payload version of `/_sandbox/webhooks` targets and the
    default of `POST /v1/webhooks`; `seats` and `daily_budget` size the token budget.
    """

    name: ClassVar[str] = "pipedrive"
    rate_profiles = RATE_PROFILES
    default_rate_profile = "growth"
    exempt_prefixes = ("/oauth",)

    def __init__(
        self,
        options: SandboxOptions | None = None,
        *,
        clock: Callable[[], float] = time.time,
        webhook_version: str = "2.0",
        seats: int = 1,
        daily_budget: int | None = None,
    ) -> None:
        super().__init__(options)
        self.clock = clock
        self.webhook_version = webhook_version
        self.company = Company(clock, notify=self._notify)
        self.oauth = OAuthServer(clock)
        self.hooks = WebhookRegistry(clock, default_version=webhook_version)
        self.budget = TokenBudget(clock, seats=seats, override=daily_budget)
        self._bench_ids: dict[int, int] = {}

    # ---- the provider contract ---------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        api = [
            *oauth.routes(self.oauth),
            *api_v1.routes(self.company, self.hooks, self._wrap),
            *api_v2.routes(self.company, self._wrap),
            *filter_routes(self.company.filters, self._wrap),
        ]
        return [RouteGroups(api)]

    def reset(self) -> None:
        self._bench_ids.clear()
        self.company.reset()
        self.oauth.reset()
        self.hooks.reset()
        self.budget.reset()

    def counts(self) -> dict[str, int]:
        return self.company.store.counts()

    def user_change(
        self, object_type: str, record_id: str | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        kind = _kind(object_type)
        try:
            if record_id is None:
                record = self.company.create(kind, dict(fields), version=1, source="app")
            else:
                record = self.company.update(kind, record_id, dict(fields), 1, source="app")
        except PipedriveError as exc:
            raise ValueError(exc.message) from exc
        return v2(kind, record) if kind.has_v2 else v1(kind, record)

    def credential(self) -> str:
        return f"api_token={self.oauth.api_token}"

    def upsert_request(self, seq: int, variant: int = 0) -> SampleRequest:
        """A v2 PATCH of person number `seq`, with values that differ by `variant`
        (Pipedrive has no batch or upsert; a connector searches, then writes one record
        per call)."""
        person_id = self._bench_ids.get(seq)
        if person_id is None:
            person_id = self.company.create(PERSON, {"name": f"Bench {seq}"}, version=2)["id"]
            self._bench_ids[seq] = person_id
        body = {
            "name": f"Bench {seq} v{variant}",
            "emails": [{"value": f"b{seq}.{variant}@example.com"}],
        }
        return SampleRequest(
            "PATCH",
            f"/api/v2/persons/{person_id}",
            {"x-api-token": self.oauth.api_token, "Content-Type": "application/json"},
            orjson.dumps(body),
        )

    def state_extra(self) -> dict[str, Any]:
        return {
            "api_token": self.oauth.api_token,
            "oauth_client": {
                "client_id": self.oauth.client_id,
                "client_secret": self.oauth.client_secret,
            },
            "subscriptions": [s.describe() for s in self.hooks.subscriptions.values()],
            "daily_tokens_used": self.budget.used,
        }

    # ---- how Pipedrive answers --------------------------------------------------

    def check_auth(self, request: Request) -> Response | None:
        token = request.query_params.get("api_token") or request.headers.get("x-api-token")
        if token is not None and token == self.oauth.api_token:
            return None
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer " and self.oauth.valid_access(header[7:].strip()):
            return None
        return json_response(error_body(401, "unauthorized access"), 401)

    def rate_bucket(self, method: str, path: str) -> str:
        return SEARCH_BUCKET if path.endswith("/search") else "default"

    def rate_headers(self, decision: RateDecision) -> dict[str, str]:
        usage = decision.violated or (decision.usages[0] if decision.usages else None)
        if usage is None:
            return {}
        return {
            "x-ratelimit-limit": str(usage.window.limit),
            "x-ratelimit-remaining": str(usage.remaining),
            "x-ratelimit-reset": str(max(1, round(usage.reset_seconds))),
        }

    def throttled_response(self, decision: RateDecision) -> Response:
        body = {**error_body(429, "Request over limit"), "errorCode": 429}
        headers = {"Retry-After": str(decision.retry_after), **self.rate_headers(decision)}
        return json_response(body, 429, headers)

    def error_response(self, status: int) -> Response:
        return json_response(error_body(status, "Internal server error"), status)

    def not_found_response(self, method: str, path: str) -> Response:
        return json_response(error_body(404, "Unknown method ."), 404)

    # ---- plumbing ---------------------------------------------------------------

    def _wrap(self, handler: Handler) -> Handler:
        """Charge the daily token budget and turn PipedriveError into its answer."""

        async def endpoint(request: Request) -> Response:
            plan = plan_of(self.profile.name)
            daily: dict[str, str] = {}
            if plan is not None:
                tokens = cost(request.method, request.scope["path"])
                allowed, limit, remaining = self.budget.spend(plan, tokens)
                daily = {
                    "x-daily-ratelimit-token-limit": str(limit),
                    "x-daily-ratelimit-token-remaining": str(remaining),
                }
                if not allowed:
                    body = {**error_body(429, "Daily token budget exceeded"), "errorCode": 429}
                    retry = {"Retry-After": str(self.budget.seconds_to_reset())}
                    return json_response(body, 429, {**daily, **retry})
            try:
                response = await handler(request)
            except PipedriveError as exc:
                response = error(exc)
            response.headers.update(daily)
            return response

        return endpoint

    def _notify(self, change: Change) -> None:
        if change.noop:  # nothing changed: Pipedrive has nothing to tell
            return
        extra = [
            Subscription(
                id=0,
                url=t.url,
                action="*",
                obj="*",
                version=self.webhook_version,
                user=t.basic_auth[0] if t.basic_auth else None,
                password=t.basic_auth[1] if t.basic_auth else None,
                name="sandbox target",
                add_time=0.0,
            )
            for t in self.webhook_targets
            if t.wants(f"{change.action}.{change.kind.singular}")
            or t.wants(f"{V1_VERBS[change.action]}.{change.kind.singular}")
        ]
        for message in self.hooks.messages(change, WEBHOOK_HOST, extra):
            self._send(message)

    def _send(self, message: WebhookMessage) -> None:
        try:
            self.webhooks.enqueue(message)
        except RuntimeError:
            log.warning("no event loop; webhook %s to %s not sent", message.event, message.url)


def _kind(object_type: str) -> Kind:
    kind = KINDS.get(object_type) or BY_SINGULAR.get(object_type)
    if kind is None:
        raise KeyError(f"unknown Pipedrive object type {object_type!r}")
    return kind
