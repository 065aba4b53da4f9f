"""One entry per connector for the shared contract suite: its sandbox and how to drive it.

A ``Target`` knows how to start the provider's sandbox on loopback, build the connector
through the registry with valid, invalid or OAuth credentials, make payloads (valid and
invalid), change records as a CRM user would, force faults, and expire tokens on the
server. Adding a connector to the suite is one more entry in ``TARGETS``.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from crmsync.connectors.base import Connector, Payload
from crmsync.connectors.http import HttpSettings, RetryPolicy, TokenSet
from crmsync.connectors.http.ratelimit import MemoryWindows
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.registry import ConnectorContext, build
from crmsync.connectors.rest.definition import builtin
from crmsync.connectors.rest.wire import to_properties, to_wire
from crmsync.sandbox.base import ProviderSandbox, SandboxOptions
from crmsync.sandbox.generic.sandbox import GenericSandbox
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.pipedrive.sandbox import PipedriveSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.totalexpert.sandbox import TotalExpertSandbox

# short in-call retries keep the 5xx tests quick; the fake sleep records them anyway
FAST = HttpSettings(retry=RetryPolicy(attempts=3, base=0.01, cap=0.05, jitter=0))


class Target(ABC):
    """A connector and its sandbox, served over a real socket."""

    provider: str
    object_type: str
    match_key: str
    sends_retry_after: bool = True  # Salesforce never answers 429 with a wait
    # Pipedrive (Basic credentials) and Total Expert (a secret in the body) sign nothing:
    # an altered body still carries valid credentials, so only forged credentials fail.
    signs_body: bool = True

    def __init__(self) -> None:
        self.offset = 0.0  # seconds added to the sandbox's clock (server-side expiry)
        self.sandbox = self.make_sandbox(lambda: time.time() + self.offset)
        self.server = SandboxServer([self.sandbox]).start()
        self.url = self.server.url(self.sandbox.name)
        self.control = httpx.Client(base_url=self.url, timeout=10)

    @abstractmethod
    def make_sandbox(self, clock: Callable[[], float]) -> ProviderSandbox: ...

    @abstractmethod
    def credentials(self, kind: str) -> dict[str, Any]:
        """``valid``, ``invalid`` or ``oauth`` credentials for the default account."""

    @abstractmethod
    def payload(self, n: int) -> dict[str, Any]:
        """A valid payload whose match key value is unique to ``n``."""

    @abstractmethod
    def invalid_payload(self, n: int) -> dict[str, Any]:
        """A payload the provider refuses."""

    @abstractmethod
    def remote(self, remote_id: str) -> Mapping[str, Any] | None:
        """The live remote record's properties, or ``None`` when it is gone."""

    @property
    @abstractmethod
    def webhook_secret(self) -> str: ...

    # a well-formed id of the object type that names no record
    missing_id = "999999999"

    def timeline(self, remote_id: str) -> list[str]:
        """Subjects of the timeline entries on a record (connectors with a timeline)."""
        raise NotImplementedError(f"{self.provider} target cannot read a timeline")

    def context(self, credentials: Mapping[str, Any], **overrides: Any) -> ConnectorContext:
        values: dict[str, Any] = {
            "integration_id": uuid.uuid4(),
            "workspace_id": uuid.uuid4(),
            "base_url": self.url,
            "credentials": credentials,
            "rate_profile": "unlimited",
            "http": FAST,
            "windows": MemoryWindows(),
        }
        values.update(overrides)
        return ConnectorContext(**values)

    def connector(
        self, kind: str = "valid", credentials: Mapping[str, Any] | None = None, **overrides: Any
    ) -> Connector:
        given = credentials if credentials is not None else self.credentials(kind)
        return build(self.provider, self.context(given, **overrides))

    def change(self, record_id: str | None, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Change (or create) a record as a CRM user would."""
        body = {"object_type": self.object_type, "record_id": record_id, "fields": dict(fields)}
        answer = self.control.post("/_sandbox/change", json=body)
        answer.raise_for_status()
        return dict(answer.json())

    def force(self, kind: str, count: int) -> None:
        """The next ``count`` API calls fail with ``kind`` (429, 500, 503...)."""
        self.control.post("/_sandbox/faults", json={"kind": kind, "count": count})

    def subscribe(self, url: str) -> None:
        """Send this sandbox's webhooks to ``url``."""
        self.control.post("/_sandbox/webhooks", json={"url": url}).raise_for_status()

    def reset(self) -> None:
        self.offset = 0.0
        self.control.post("/_sandbox/reset").raise_for_status()

    def expire_tokens_on_server(self) -> None:
        """Move the sandbox's clock past every issued access token's lifetime."""
        self.offset += 7200

    def stop(self) -> None:
        self.control.close()
        self.server.stop()


class HubSpotTarget(Target):
    provider = "hubspot"
    object_type = "contacts"
    match_key = "email"
    sandbox: HubSpotSandbox

    def make_sandbox(self, clock: Callable[[], float]) -> HubSpotSandbox:
        return HubSpotSandbox(clock=clock, batch_delay=0.01)

    def credentials(self, kind: str) -> dict[str, Any]:
        tokens = self.sandbox.tokens
        if kind == "valid":
            return {"access_token": tokens.private_token}
        if kind == "invalid":
            return {"access_token": "pat-na1-" + str(uuid.uuid4())}
        return self._oauth_grant()

    def context(self, credentials: Mapping[str, Any], **overrides: Any) -> ConnectorContext:
        tokens = self.sandbox.tokens
        overrides.setdefault("client_id", tokens.client_id)
        overrides.setdefault("client_secret", Secret(tokens.client_secret))
        return super().context(credentials, **overrides)

    def _oauth_grant(self) -> dict[str, Any]:
        """Tokens from the sandbox's authorization-code flow, over the socket."""
        tokens = self.sandbox.tokens
        redirect = "http://127.0.0.1:9/callback"
        approved = self.control.get(
            "/oauth/authorize",
            params={"client_id": tokens.client_id, "redirect_uri": redirect, "state": "s"},
        )
        code = parse_qs(urlparse(approved.headers["location"]).query)["code"][0]
        grant = self.control.post(
            "/oauth/v1/token",
            data={
                "grant_type": "authorization_code",
                "client_id": tokens.client_id,
                "client_secret": tokens.client_secret,
                "redirect_uri": redirect,
                "code": code,
            },
        ).json()
        token = TokenSet(
            Secret(grant["access_token"]),
            Secret(grant["refresh_token"]),
            time.time() + grant["expires_in"],
        )
        return {
            "access_token": token.access_token.reveal(),
            "refresh_token": grant["refresh_token"],
            "expires_at": token.expires_at,
        }

    def payload(self, n: int) -> dict[str, Any]:
        return {"email": f"person{n}@example.com", "firstname": f"First{n}", "lastname": "Doe"}

    def invalid_payload(self, n: int) -> dict[str, Any]:
        return {"email": f"person{n}@example.com", "no_such_property": "x"}

    def remote(self, remote_id: str) -> Mapping[str, Any] | None:
        answer = self.control.get(
            f"/crm/v3/objects/contacts/{remote_id}",
            params={"properties": "email,firstname,lastname"},
            headers={"Authorization": f"Bearer {self.sandbox.tokens.private_token}"},
        )
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return dict(answer.json()["properties"])

    @property
    def webhook_secret(self) -> str:
        return self.sandbox.tokens.client_secret


class PipedriveTarget(Target):
    """Persons; the contract's ``firstname``/``lastname`` are custom person fields."""

    provider = "pipedrive"
    object_type = "persons"
    match_key = "email"
    signs_body = False
    sandbox: PipedriveSandbox
    password = "hook-password-1"
    custom = ("firstname", "lastname")

    def make_sandbox(self, clock: Callable[[], float]) -> PipedriveSandbox:
        return PipedriveSandbox(SandboxOptions(rate_profile="off"), clock=clock)

    def reset(self) -> None:
        super().reset()
        self.keys = {
            name: self._api("POST", "/v1/personFields", {"name": name, "field_type": "varchar"})[
                "data"
            ]["key"]
            for name in self.custom
        }

    def _api(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        headers = {"x-api-token": self.sandbox.oauth.api_token}
        answer = self.control.request(method, path, json=body, headers=headers)
        answer.raise_for_status()
        return dict(answer.json())

    def credentials(self, kind: str) -> dict[str, Any]:
        if kind == "valid":
            return {"api_token": self.sandbox.oauth.api_token}
        if kind == "invalid":
            return {"api_token": uuid.uuid4().hex}
        oauth = self.sandbox.oauth
        redirect = "http://127.0.0.1:9/callback"
        approved = self.control.get(
            "/oauth/authorize",
            params={"client_id": oauth.client_id, "redirect_uri": redirect, "state": "s"},
        )
        code = parse_qs(urlparse(approved.headers["location"]).query)["code"][0]
        grant = self.control.post(
            "/oauth/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            auth=(oauth.client_id, oauth.client_secret),
        ).json()
        return {
            "access_token": grant["access_token"],
            "refresh_token": grant["refresh_token"],
            "expires_at": time.time() + grant["expires_in"],
        }

    def context(self, credentials: Mapping[str, Any], **overrides: Any) -> ConnectorContext:
        oauth = self.sandbox.oauth
        overrides.setdefault("client_id", oauth.client_id)
        overrides.setdefault("client_secret", Secret(oauth.client_secret))
        overrides.setdefault("webhook_secret", Secret(self.password))
        return super().context(credentials, **overrides)

    def payload(self, n: int) -> dict[str, Any]:
        return {
            "email": f"person{n}@example.com",
            "name": f"First{n} Doe",
            "firstname": f"First{n}",
            "lastname": "Doe",
        }

    def invalid_payload(self, n: int) -> dict[str, Any]:
        return {"email": f"person{n}@example.com", "name": ""}  # a person needs a name

    def remote(self, remote_id: str) -> Mapping[str, Any] | None:
        headers = {"x-api-token": self.sandbox.oauth.api_token}
        answer = self.control.get(f"/api/v2/persons/{remote_id}", headers=headers)
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        person = answer.json()["data"]
        if person.get("is_deleted"):
            return None
        custom = person.get("custom_fields") or {}
        emails = person.get("emails") or [{}]
        found = {name: custom.get(key) for name, key in self.keys.items()}
        return {"email": emails[0].get("value"), **found}

    def change(self, record_id: str | None, fields: Mapping[str, Any]) -> dict[str, Any]:
        named = {self.keys.get(k, k): v for k, v in fields.items()}
        if record_id is None:
            named.setdefault("name", f"{fields.get('firstname', '')} {fields.get('lastname', '')}")
        return super().change(record_id, named)

    def subscribe(self, url: str) -> None:
        body = {"url": url, "basic_auth": ["crmsync", self.password]}
        self.control.post("/_sandbox/webhooks", json=body).raise_for_status()

    @property
    def webhook_secret(self) -> str:
        return self.password


class TotalExpertTarget(Target):
    """Contacts; the contract's ``firstname``/``lastname`` travel as custom fields."""

    provider = "totalexpert"
    object_type = "contacts"
    match_key = "email"
    signs_body = False
    sandbox: TotalExpertSandbox
    secret = "te-hook-secret-1"

    def make_sandbox(self, clock: Callable[[], float]) -> TotalExpertSandbox:
        sandbox = TotalExpertSandbox(SandboxOptions(rate_profile="off"), clock=clock)
        _define_fields(sandbox)
        return sandbox

    def reset(self) -> None:
        super().reset()
        _define_fields(self.sandbox)

    def credentials(self, kind: str) -> dict[str, Any]:
        tokens = self.sandbox.tokens
        if kind == "invalid":
            return {"client_id": tokens.client_id, "client_secret": uuid.uuid4().hex}
        pair = {"client_id": tokens.client_id, "client_secret": tokens.client_secret}
        if kind == "valid":
            return pair
        grant = self.control.post(
            "/v1/token",
            json={"grant_type": "client_credentials"},
            auth=(tokens.client_id, tokens.client_secret),
        ).json()
        expires_at = time.time() + grant["expires_in"]
        return {**pair, "access_token": grant["access_token"], "expires_at": expires_at}

    def context(self, credentials: Mapping[str, Any], **overrides: Any) -> ConnectorContext:
        overrides.setdefault("webhook_secret", Secret(self.secret))
        return super().context(credentials, **overrides)

    def payload(self, n: int) -> dict[str, Any]:
        return {
            "email": f"person{n}@example.com",
            "first_name": f"First{n}",
            "last_name": "Doe",
            "owner.id": 1,
            "firstname": f"First{n}",
            "lastname": "Doe",
        }

    def invalid_payload(self, n: int) -> dict[str, Any]:
        return {"email": f"person{n}@example.com", "first_name": "X", "owner.id": 999}

    def _token(self) -> str:
        tokens = self.sandbox.tokens
        grant = self.control.post(
            "/v1/token",
            json={"grant_type": "client_credentials"},
            auth=(tokens.client_id, tokens.client_secret),
        )
        return str(grant.json()["access_token"])

    def remote(self, remote_id: str) -> Mapping[str, Any] | None:
        headers = {"Authorization": f"Bearer {self._token()}"}
        answer = self.control.get(f"/v1/contacts/{remote_id}", headers=headers)
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        contact = answer.json()
        if contact.get("archived") == "True":
            return None
        custom = {c["field_name"]: c["value"] for c in contact.get("custom") or []}
        return {"email": contact.get("email"), **custom}

    def timeline(self, remote_id: str) -> list[str]:
        headers = {"Authorization": f"Bearer {self._token()}"}
        answer = self.control.get(
            "/v1/contact-notes", params={"filter": f"contact_id={remote_id}"}, headers=headers
        )
        answer.raise_for_status()
        return [str(n["title"]) for n in answer.json()["items"]]

    def change(self, record_id: str | None, fields: Mapping[str, Any]) -> dict[str, Any]:
        standard = {k: v for k, v in fields.items() if k in ("email", "first_name", "last_name")}
        custom = [
            {"field_name": k, "value": v}
            for k, v in fields.items()
            if k in ("firstname", "lastname")
        ]
        return super().change(record_id, {**standard, "custom": custom})

    def subscribe(self, url: str) -> None:
        body = {"url": url, "secret": self.secret}
        self.control.post("/_sandbox/webhooks", json=body).raise_for_status()

    @property
    def webhook_secret(self) -> str:
        return self.secret


def _define_fields(sandbox: TotalExpertSandbox) -> None:
    # custom fields must be defined before contacts carry them, as in a real account
    for name in ("firstname", "lastname"):
        sandbox.account.define_custom_field(name, name.title(), "text")


class GenericTarget(Target):
    """The declarative connector with the generic REST CRM's definition."""

    provider = "generic"
    object_type = "contacts"
    match_key = "externalReference"
    sandbox: GenericSandbox
    secret = "whsec_generic_contract"

    def __init__(self) -> None:
        super().__init__()
        self.spec = builtin("generic").object(self.object_type)

    def make_sandbox(self, clock: Callable[[], float]) -> GenericSandbox:
        return GenericSandbox(clock=clock)

    def credentials(self, kind: str) -> dict[str, Any]:
        if kind == "valid":
            return {"api_key": self.sandbox.api_key}
        if kind == "invalid":
            return {"api_key": "gk_" + uuid.uuid4().hex}
        pytest.skip("the generic REST CRM authenticates by API key; it has no OAuth tokens")

    def context(self, credentials: Mapping[str, Any], **overrides: Any) -> ConnectorContext:
        overrides.setdefault("webhook_secret", Secret(self.secret))
        return super().context(credentials, **overrides)

    def payload(self, n: int) -> dict[str, Any]:
        return {
            "externalReference": f"person-{n}",
            "email": f"person{n}@example.com",
            "firstname": f"First{n}",
            "lastname": "Doe",
        }

    def invalid_payload(self, n: int) -> dict[str, Any]:
        return {"externalReference": f"person-{n}", "email": "not an email address"}

    def remote(self, remote_id: str) -> Mapping[str, Any] | None:
        answer = self.control.get(
            f"/api/v1/contacts/{remote_id}", headers={"X-API-Key": self.sandbox.api_key}
        )
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return to_properties(answer.json(), self.spec, builtin("generic"))

    def change(self, record_id: str | None, fields: Mapping[str, Any]) -> dict[str, Any]:
        # the suite speaks in the connector's property names; the CRM user in wire names
        return super().change(record_id, to_wire(fields, self.spec))

    def subscribe(self, url: str) -> None:
        # a shared-secret header says who sent a delivery, not that its body is intact,
        # so the suite's forged-body case cannot hold; tests/connectors/test_rest_webhooks.py
        # covers genuine, wrong-secret and mismatched-event deliveries instead
        pytest.skip("header-secret webhooks carry no body signature to check a forged body")

    @property
    def webhook_secret(self) -> str:
        return self.secret


from tests.connectors.contract.salesforce import SalesforceTarget  # noqa: E402  (needs Target)

TARGETS: dict[str, type[Target]] = {
    "hubspot": HubSpotTarget,
    "salesforce": SalesforceTarget,
    "pipedrive": PipedriveTarget,
    "totalexpert": TotalExpertTarget,
    "generic": GenericTarget,
}


def payloads(target: Target, numbers: range) -> list[Payload]:
    return [target.payload(n) for n in numbers]
