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
from crmsync.connectors.registry import ConnectorContext, build
from crmsync.connectors.rest.definition import builtin
from crmsync.connectors.rest.wire import to_properties, to_wire
from crmsync.integrations.vault import Secret
from crmsync.sandbox.base import ProviderSandbox
from crmsync.sandbox.generic.sandbox import GenericSandbox
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer

# short in-call retries keep the 5xx tests quick; the fake sleep records them anyway
FAST = HttpSettings(retry=RetryPolicy(attempts=3, base=0.01, cap=0.05, jitter=0))


class Target(ABC):
    """A connector and its sandbox, served over a real socket."""

    provider: str
    object_type: str
    match_key: str

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


TARGETS: dict[str, type[Target]] = {"hubspot": HubSpotTarget, "generic": GenericTarget}


def payloads(target: Target, numbers: range) -> list[Payload]:
    return [target.payload(n) for n in numbers]
