"""The Total Expert sandbox: wires the account, token issuer, limits and webhooks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import ProviderSandbox, SampleRequest, SandboxOptions

# HTTP Basic parsing and grouped routing are shared with the Pipedrive sandbox.
from crmsync.sandbox.pipedrive.oauth import basic_credentials
from crmsync.sandbox.pipedrive.routing import RouteGroups
from crmsync.sandbox.ratelimit import RateDecision, RateProfile, RateWindow, profiles
from crmsync.sandbox.totalexpert import (
    api_contacts,
    api_groups,
    api_insights,
    api_journeys,
    api_notes,
    api_users,
    contacts,
    custom_fields,
    lead_opportunities,
    loans,
    webhooks,
)
from crmsync.sandbox.totalexpert.account import Account
from crmsync.sandbox.totalexpert.api_contacts import Handler
from crmsync.sandbox.totalexpert.api_notes import render_activity, render_note
from crmsync.sandbox.totalexpert.errors import TotalExpertError, error, json_response
from crmsync.sandbox.totalexpert.tokens import TokenIssuer

log = logging.getLogger(__name__)

RATE_PROFILES = profiles(
    RateProfile(
        "standard",
        (RateWindow("minute", 1000, 60.0),),
        "1,000 requests per minute on all endpoints",
    ),
)
_PUBLIC = ("/v1/heartbeat", "/v1/teapot")


class TotalExpertSandbox(ProviderSandbox):
    """Total Expert's public API for one account.

    `clock` drives token expiry and timestamps (tests pass a fake); `retry_after` adds
    a Retry-After header to 429s (the API documents none); `https_only` refuses http
    webhook URLs even on loopback.
    """

    name: ClassVar[str] = "totalexpert"
    rate_profiles = RATE_PROFILES
    default_rate_profile = "standard"
    exempt_prefixes = ("/v1/token",)

    def __init__(
        self,
        options: SandboxOptions | None = None,
        *,
        clock: Callable[[], float] = time.time,
        retry_after: bool = False,
        https_only: bool = False,
    ) -> None:
        super().__init__(options)
        self.clock = clock
        self.retry_after = retry_after
        self.account = Account(clock, notify=self._notify)
        self.loans = loans.Loans(self.account)
        self.lead_opportunities = lead_opportunities.LeadOpportunities(self.account)
        self.tokens = TokenIssuer(clock)
        self.subscriptions = webhooks.Subscriptions(https_only=https_only)
        self._bench_token: str | None = None

    # ---- the provider contract ---------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        async def token(request: Request) -> Response:
            raw = await request.body()
            try:
                body = orjson.loads(raw) if raw else {}
            except orjson.JSONDecodeError:
                body = dict(await request.form())
            grant_type = body.get("grant_type") if isinstance(body, dict) else None
            return json_response(self.tokens.issue(basic_credentials(request), grant_type))

        async def heartbeat(request: Request) -> Response:
            return json_response({"running_item": "Total Expert External API"})

        async def teapot(request: Request) -> Response:
            return json_response({"code": "418 I'm a teapot", "status": "short and stout"}, 418)

        return [
            RouteGroups(
                [
                    Route("/v1/token", self._wrap(token), methods=["POST"]),
                    Route("/v1/heartbeat", heartbeat, methods=["GET"]),
                    Route("/v1/teapot", teapot, methods=["GET"]),
                    *api_contacts.routes(self.account, self._wrap),
                    *api_notes.routes(self.account, self._wrap),
                    *api_journeys.routes(self.account, self._wrap),
                    *webhooks.routes(self.subscriptions, self._wrap),
                    *api_users.routes(self._wrap),
                    *api_insights.routes(self.account, self._wrap),
                    *api_groups.routes(self.account, self._wrap),
                    *custom_fields.routes(self.account.custom_fields, self._wrap),
                    *loans.routes(self.loans, self._wrap),
                    *lead_opportunities.routes(self.lead_opportunities, self._wrap),
                ]
            )
        ]

    def reset(self) -> None:
        self._bench_token = None
        self.account.reset()
        self.loans.reset()
        self.lead_opportunities.reset()
        self.tokens.reset()
        self.subscriptions.reset()

    def counts(self) -> dict[str, int]:
        return self.account.counts()

    def user_change(
        self, object_type: str, record_id: str | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        try:
            return self._user_change(object_type, record_id, dict(fields))
        except TotalExpertError as exc:
            raise ValueError(exc.message) from exc

    def _user_change(
        self, object_type: str, record_id: str | None, fields: dict[str, Any]
    ) -> dict[str, Any]:
        account = self.account
        if object_type in ("contact", "contacts"):
            if record_id is None:
                fields.setdefault("owner", {"id": 1})
                fields.setdefault("source", "Total Expert UI")  # the UI always sets one
                return contacts.render(account.post_contact(fields)[1])
            return contacts.render(account.patch_contact(record_id, fields))
        if object_type in ("custom-fields", "custom_field"):
            # Defining a custom field is UI-only in Total Expert; the control API stands in.
            return account.define_custom_field(
                str(fields.get("system_name") or ""),
                str(fields.get("display_name") or ""),
                str(fields.get("data_type") or "text"),
                str(fields.get("entity_type") or "contact"),
            )
        if object_type in ("contact-notes", "note", "notes"):
            if record_id is None:
                return render_note(account.post_note(fields))
            account.patch_note(record_id, fields)
            return render_note(account.note(record_id))
        if object_type in ("activity", "activities"):
            # How engagement arrives: an email opened, a page viewed, an SMS replied.
            contact = account.contact(fields.get("contact_id"))
            kind = str(fields.get("type") or "Email Opened")
            created = account.add_activity(
                contact["id"], kind, str(fields.get("title") or kind), None, fields.get("details")
            )
            return render_activity(created)
        raise KeyError(f"unknown Total Expert object type {object_type!r}")

    def credential(self) -> str:
        return f"client_id={self.tokens.client_id} client_secret={self.tokens.client_secret}"

    def upsert_request(self, seq: int, variant: int = 0) -> SampleRequest:
        """A contact POST keyed by an external id: creates contact `seq` the first time,
        then answers `duplicate` and updates it (Total Expert's upsert); `variant`
        changes the values."""
        if self._bench_token is None:
            client = (self.tokens.client_id, self.tokens.client_secret)
            self._bench_token = str(self.tokens.issue(client, "client_credentials")["access_token"])
        body = {
            "first_name": "Bench",
            "last_name": f"L{seq}",
            "email": f"b{seq}.{variant}@example.com",
            "source": "bench",
            "external_ids": [{"source": "bench", "external_id": f"b{seq}"}],
            "owner": {"id": 1},
        }
        return SampleRequest(
            "POST",
            "/v1/contacts",
            {"Authorization": f"Bearer {self._bench_token}", "Content-Type": "application/json"},
            orjson.dumps(body),
        )

    def state_extra(self) -> dict[str, Any]:
        return {
            "client_id": self.tokens.client_id,
            "client_secret": self.tokens.client_secret,
            "subscriptions": len(self.subscriptions.items),
        }

    # ---- how Total Expert answers ------------------------------------------------

    def check_auth(self, request: Request) -> Response | None:
        if request.scope["path"] in _PUBLIC:
            return None
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        refusal = self.tokens.check(token)
        return None if refusal is None else error(refusal)

    def throttled_response(self, decision: RateDecision) -> Response:
        headers = {"Retry-After": str(decision.retry_after)} if self.retry_after else None
        return json_response({"error": "Too Many Requests"}, 429, headers)

    def error_response(self, status: int) -> Response:
        messages = {503: "Service Unavailable", 502: "Bad Gateway"}
        return json_response({"error": messages.get(status, "Internal Server Error")}, status)

    def not_found_response(self, method: str, path: str) -> Response:
        return json_response({"error": f'No route found for "{method} {path}"'}, 404)

    # ---- plumbing ---------------------------------------------------------------

    def _wrap(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except TotalExpertError as exc:
                return error(exc)

        return endpoint

    def _notify(self, item: str, action: str, record_id: int, digest: Callable[[], str]) -> None:
        extra = [
            {
                "url": t.url,
                "secret": t.secret or "",
                "actions": [{"action": action, "item": item}],
            }
            for t in self.webhook_targets
            if t.wants(f"{item}.{action}")
        ]
        for message in self.subscriptions.messages(item, action, record_id, digest, extra):
            try:
                self.webhooks.enqueue(message)
            except RuntimeError:
                log.warning("no event loop; webhook %s to %s not sent", message.event, message.url)
