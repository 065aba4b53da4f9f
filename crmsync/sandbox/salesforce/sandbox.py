"""The Salesforce sandbox: one org behind Salesforce's REST API paths.

Served paths: ``/services/oauth2/{authorize,token,revoke}``, ``/services/data/``
(versions) and under ``/services/data/vXX.X/`` (any version): ``sobjects`` (describe,
records, upsert by external id, ``updated``/``deleted``), ``composite/sobjects``,
``query``/``queryAll`` with ``nextRecordsUrl`` pages, and ``limits``. The API
allocation is enforced per edition profile with 403 REQUEST_LIMIT_EXCEEDED, and every
answer reports usage in ``Sforce-Limit-Info``.

Salesforce has no simple webhooks; integrations detect changes by polling
(``SystemModstamp`` queries, ``updated``/``deleted``). `user_change` edits a record as
a different user than the API user and, for registered targets, posts an Outbound
Message (SOAP) as a workflow rule would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from crmsync.sandbox.base import ProviderSandbox, SampleRequest, SandboxOptions
from crmsync.sandbox.faults import FaultKind
from crmsync.sandbox.ratelimit import RateDecision, RateLimiter, RateProfile
from crmsync.sandbox.salesforce import errors
from crmsync.sandbox.salesforce.campaigns import campaign_objects
from crmsync.sandbox.salesforce.collections import collection_routes
from crmsync.sandbox.salesforce.composite import composite_routes
from crmsync.sandbox.salesforce.identity import identity_routes
from crmsync.sandbox.salesforce.ids import IdFactory
from crmsync.sandbox.salesforce.limits import (
    DAILY,
    daily_profile,
    edition_profiles,
    limit_info,
)
from crmsync.sandbox.salesforce.meta import VERSIONS_PATH, meta_routes
from crmsync.sandbox.salesforce.oauth import PREFIX as OAUTH_PREFIX
from crmsync.sandbox.salesforce.oauth import oauth_routes
from crmsync.sandbox.salesforce.org import Org, OrgSettings, utc_now
from crmsync.sandbox.salesforce.outbound import HEADERS as OUTBOUND_HEADERS
from crmsync.sandbox.salesforce.outbound import notification_body
from crmsync.sandbox.salesforce.queries import query_routes
from crmsync.sandbox.salesforce.records import record_json, record_routes
from crmsync.sandbox.salesforce.replication import replication_routes
from crmsync.sandbox.salesforce.schema import SObjectType, standard_objects
from crmsync.sandbox.salesforce.tooling import tooling_routes
from crmsync.sandbox.salesforce.workflow import Workflows, workflow_routes
from crmsync.sandbox.webhooks import WebhookMessage

API_VERSION = "59.0"
# With limits off the header still reports usage, against the default edition's allowance.
_UNMETERED_ALLOCATION = edition_profiles()["enterprise"].windows[0].limit


class Sandbox(ProviderSandbox):
    """A Salesforce org emulator (Lead, Contact, Account, Opportunity, Task)."""

    name = "salesforce"
    rate_profiles: ClassVar[Mapping[str, RateProfile]] = edition_profiles()
    default_rate_profile = "enterprise"
    exempt_prefixes = (OAUTH_PREFIX,)

    def __init__(
        self,
        options: SandboxOptions | None = None,
        *,
        settings: OrgSettings | None = None,
        objects: Mapping[str, SObjectType] | None = None,
        clock: Callable[[], datetime] = utc_now,
        daily_allocation: int | None = None,
    ) -> None:
        super().__init__(options)
        objects = objects or {**standard_objects(), **campaign_objects()}
        self.org = Org(settings or OrgSettings(), objects, clock)
        if daily_allocation is not None:
            self.profile = daily_profile(f"daily-{daily_allocation}", daily_allocation)
            self.limiter = RateLimiter(self.profile)
        self._unmetered = 0
        self._notification_ids = IdFactory()
        self._action_id = self._notification_ids.new("04k")
        self.workflows = Workflows()

    # ---- ProviderSandbox ---------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        org, info = self.org, self.limit_info
        return [
            *oauth_routes(org),
            *meta_routes(org, info, self.usage),
            *self._data_routes(),
            *composite_routes(org, info, self._data_routes),
            *tooling_routes(org, info),
            *identity_routes(org),
            *workflow_routes(org, self.workflows, info),
        ]

    def _data_routes(self) -> list[BaseRoute]:
        """The REST data resources (what composite subrequests may call)."""
        org, info = self.org, self.limit_info
        return [
            *query_routes(org, info),
            *collection_routes(org, info),
            *replication_routes(org, info),
            *record_routes(org, info),
        ]

    def reset(self) -> None:
        self.org.reset()
        self.workflows.clear()
        self._unmetered = 0

    def counts(self) -> dict[str, int]:
        # the org's users are fixtures of the org, not records an integration wrote
        return {name: self.org.store.count(name) for name in self.org.objects if name != "User"}

    def user_change(
        self, object_type: str, record_id: str | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        store, user = self.org.store, self.org.crm_user
        try:
            kind = store.sobject(object_type)
            if record_id is None:
                record = store.create(kind.name, fields, user)
            else:
                record = store.update(kind.name, record_id, fields, user)
        except errors.ApiError as exc:
            raise (KeyError if exc.status == 404 else ValueError)(exc.message) from None
        self._send_outbound(kind.name, record)
        return record_json(API_VERSION, kind, record)

    def _send_outbound(self, sobject: str, record: dict[str, Any]) -> None:
        """Post an outbound message to each target subscribed to `sobject` (or ``*``),
        and the message of each active workflow rule on it (with its fields only)."""
        for message in self.workflows.deliveries(sobject):
            wanted = {"Id", *(message.metadata.get("fields") or ())}
            body = notification_body(
                self.org.org_id,
                message.id,
                self.base_url or "",
                API_VERSION,
                sobject,
                [
                    (
                        self._notification_ids.new("04l"),
                        {k: v for k, v in record.items() if k in wanted},
                    )
                ],
            )
            url = str(message.metadata["endpointUrl"])
            self.webhooks.enqueue(WebhookMessage(url, body, dict(OUTBOUND_HEADERS), event=sobject))
        targets = [t for t in self.webhook_targets if t.wants(sobject)]
        if not targets:
            return
        body = notification_body(
            self.org.org_id,
            self._action_id,
            self.base_url or "",
            API_VERSION,
            sobject,
            [(self._notification_ids.new("04l"), record)],
        )
        for target in targets:
            self.webhooks.enqueue(
                WebhookMessage(target.url, body, dict(OUTBOUND_HEADERS), event=sobject)
            )

    def credential(self) -> str:
        tokens = self.org.tokens
        # The instance URL is the served base URL, known once a server has set it.
        instance = f"instance_url={self.base_url} " if self.base_url else ""
        return (
            f"{instance}access_token={tokens.default_token} "
            f"client_id={tokens.default_app.client_id} "
            f"client_secret={tokens.default_app.client_secret}"
        )

    def is_exempt(self, path: str) -> bool:
        # The versions list needs no session and does not count against the allocation.
        return super().is_exempt(path) or path.rstrip("/") == VERSIONS_PATH

    def check_auth(self, request: Request) -> Response | None:
        if not request.url.path.startswith(("/services/data/", "/services/oauth2/")):
            # Not a served API (Bulk API 1.0 under /services/async, SOAP, Apex REST...):
            # let the router answer NOT_FOUND rather than a misleading session error.
            return None
        if not self.profile.windows:
            self._unmetered += 1
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() in ("bearer", "oauth") and self.org.tokens.is_valid(token.strip()):
            return None
        return self._with_info(errors.invalid_session().response())

    def throttled_response(self, decision: RateDecision) -> Response:
        return self._with_info(errors.request_limit_exceeded().response())

    def fault_response(self, kind: FaultKind) -> Response:
        # Salesforce has no 429: an injected throttle is the concurrent-request limit,
        # which passes in seconds. (A spent daily allocation is a real quota, enforced by
        # the edition profile, and answers "TotalRequests" instead.)
        if kind == "429":
            return self._with_info(errors.concurrent_limit_exceeded().response())
        return super().fault_response(kind)

    def not_found_response(self, method: str, path: str) -> Response:
        return self._with_info(errors.not_found().response())

    def error_response(self, status: int) -> Response:
        return self._with_info(errors.server_error(status).response())

    def state_extra(self) -> dict[str, Any]:
        used, allocation = self.usage()
        tokens = self.org.tokens
        return {
            "salesforce": {
                "org_id": self.org.org_id,
                "api_user_id": self.org.api_user,
                "client_id": tokens.default_app.client_id,
                "api_usage": {"used": used, "allocation": allocation},
            }
        }

    def upsert_request(self, seq: int, variant: int = 0) -> SampleRequest:
        """A collections upsert of 200 Contacts by ``External_Id__c``."""
        size = self.org.settings.collection_limit
        records = [
            {
                "attributes": {"type": "Contact"},
                "External_Id__c": f"bench-{seq * size + i}",
                "FirstName": f"First{i}",
                "LastName": f"Last{seq}-{variant}",
                "Email": f"bench{seq * size + i}@example.com",
                "Phone": f"+1 555 {seq % 10000:04d}",
            }
            for i in range(size)
        ]
        return SampleRequest(
            "PATCH",
            f"/services/data/v{API_VERSION}/composite/sobjects/Contact/External_Id__c",
            {
                "Authorization": f"Bearer {self.org.tokens.default_token}",
                "Content-Type": "application/json",
            },
            orjson.dumps({"allOrNone": False, "records": records}),
            records=size,
        )

    # ---- API usage ---------------------------------------------------------------------

    def usage(self) -> tuple[int, int]:
        """(requests used, daily allocation) of the current 24-hour window."""
        daily = next((u for u in self.limiter.peek() if u.window.policy == DAILY), None)
        if daily is None:
            return self._unmetered, _UNMETERED_ALLOCATION
        return daily.used, daily.window.limit

    def limit_info(self) -> str:
        """The ``Sforce-Limit-Info`` header value right now."""
        return limit_info(*self.usage())

    def _with_info(self, response: Response) -> Response:
        response.headers["Sforce-Limit-Info"] = self.limit_info()
        return response
