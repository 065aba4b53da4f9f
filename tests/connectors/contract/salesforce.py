"""Salesforce's entry for the shared contract suite: its sandbox and how to drive it.

``SalesforceTarget`` is what ``tests.connectors.contract.targets.TARGETS`` lists for
Salesforce. It imports nothing from the suite's tests, so ``targets`` can import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from crmsync.connectors.base import Connector
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.salesforce import soql
from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.sandbox.salesforce import Sandbox
from tests.connectors.contract.targets import Target

_OBJECTS = {
    "Contact": "contacts",
    "Lead": "leads",
    "Account": "companies",
    "Opportunity": "deals",
    "Task": "activities",
}


def oauth_grant(client: httpx.Client, sandbox: Sandbox) -> dict[str, Any]:
    """Credentials from the sandbox's OAuth web-server flow, over ``client``'s socket."""
    app = sandbox.org.tokens.default_app
    redirect = "http://127.0.0.1:9/callback"
    approved = client.get(
        "/services/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": redirect,
            "scope": "api refresh_token",
        },
    )
    code = parse_qs(urlparse(approved.headers["location"]).query)["code"][0]
    grant = client.post(
        "/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": redirect,
        },
    ).json()
    return {key: grant[key] for key in ("access_token", "refresh_token", "instance_url")}


class ContractSandbox(Sandbox):
    """The Salesforce sandbox counting records under the contract's object type names."""

    def counts(self) -> dict[str, int]:
        return {_OBJECTS.get(k, k): v for k, v in super().counts().items()}


class SalesforceTarget(Target):
    provider = "salesforce"
    object_type = "contacts"
    # field names are case-insensitive in Salesforce; the suite spells them in lower case
    match_key = "email"
    # Salesforce has no 429: its passing throttle is a 403 REQUEST_LIMIT_EXCEEDED for
    # concurrent requests (the sandbox's injected "429"), waited out like a Retry-After;
    # a spent daily allocation is rescheduled instead (test_salesforce_connector.py)
    sandbox: ContractSandbox

    def make_sandbox(self, clock: Callable[[], float]) -> ContractSandbox:
        return ContractSandbox(clock=lambda: datetime.fromtimestamp(clock(), UTC))

    def credentials(self, kind: str) -> dict[str, Any]:
        tokens = self.sandbox.org.tokens
        if kind == "valid":
            return {"access_token": tokens.default_token}
        if kind == "invalid":
            return {"access_token": self.sandbox.org.org_id + "!nope"}
        return oauth_grant(self.control, self.sandbox)

    def connector(
        self, kind: str = "valid", credentials: Mapping[str, Any] | None = None, **overrides: Any
    ) -> Connector:
        given = credentials if credentials is not None else self.credentials(kind)
        app = self.sandbox.org.tokens.default_app
        values = {"client_id": app.client_id, "client_secret": Secret(app.client_secret)}
        return SalesforceConnector.from_context(self.context(given, **(values | overrides)))

    def change(self, record_id: str | None, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self.sandbox.user_change("Contact", record_id, fields)

    def payload(self, n: int) -> dict[str, Any]:
        return {"email": f"person{n}@example.com", "firstname": f"First{n}", "lastname": "Doe"}

    def invalid_payload(self, n: int) -> dict[str, Any]:
        return {"email": f"person{n}@example.com", "firstname": "NoLastName"}

    def remote(self, remote_id: str) -> Mapping[str, Any] | None:
        token = self.sandbox.org.tokens.default_token
        answer = self.control.get(
            f"/services/data/v59.0/sobjects/Contact/{remote_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return {k.lower(): v for k, v in answer.json().items()}

    missing_id = "003000000000000AAA"

    def timeline(self, remote_id: str) -> list[str]:
        token = self.sandbox.org.tokens.default_token
        answer = self.control.get(
            "/services/data/v59.0/query",
            # the id is a quoted literal: nothing is injected
            params={"q": f"SELECT Subject FROM Task WHERE WhoId = {soql.quote(remote_id)}"},  # noqa: S608
            headers={"Authorization": f"Bearer {token}"},
        )
        answer.raise_for_status()
        return [str(r["Subject"]) for r in answer.json()["records"]]

    @property
    def webhook_secret(self) -> str:
        return ""

    def expire_tokens_on_server(self) -> None:
        self.sandbox.org.tokens.expire_sessions()
