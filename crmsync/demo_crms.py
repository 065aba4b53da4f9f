"""The demo's CRMs: built-in sandboxes, connected as integrations, and the loop shown.

Every sandbox whose provider has a connector is started, connected through the API
(as a user would), set up through the API (its custom fields created, crmsync's webhooks
registered where the CRM's API allows it) and given a backfill sync.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from crmsync.connectors.registry import providers
from crmsync.mapping.defaults import default_mapping
from crmsync.mapping.model import ObjectMapping
from crmsync.mapping.schema import ObjectType
from crmsync.sandbox import create
from crmsync.sandbox.base import ProviderSandbox, SandboxOptions
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import session_scope
from crmsync.store.models import Integration
from crmsync.sync.targets import set_object_mapping


def _hubspot(sandbox: Any, url: str) -> dict[str, Any]:
    # A private app's token; its client secret signs the webhooks HubSpot sends, and the
    # app's developer key lets setup subscribe to them.
    tokens = sandbox.tokens
    return {
        "access_token": tokens.private_token,
        "client_secret": tokens.client_secret,
        "app_id": str(tokens.app_id),
        "developer_api_key": tokens.developer_api_key,
    }


def _salesforce(sandbox: Any, url: str) -> dict[str, Any]:
    return {"access_token": sandbox.org.tokens.default_token, "instance_url": url}


def _pipedrive(sandbox: Any, url: str) -> dict[str, Any]:
    return {"api_token": sandbox.oauth.api_token}


# provider -> (credentials for its sandbox's default account, objects it syncs)
DEMO_PROVIDERS: dict[str, tuple[Callable[[Any, str], dict[str, Any]], dict[str, str]]] = {
    "hubspot": (_hubspot, {"contacts": "both"}),
    "salesforce": (_salesforce, {"contacts": "both"}),
    "pipedrive": (_pipedrive, {"contacts": "both"}),
}
# The interactive demo's sandboxes: hubspot on 8600, salesforce 8601, pipedrive 8602.
SANDBOX_PORT = 8600
RETIRE_TIMEOUT = 3.0  # seconds per integration disabled as the demo stops
# What each sandbox calls contacts when it counts its records.
CONTACTS = {"salesforce": "Contact", "pipedrive": "persons"}


def standard_fields(provider: str, object_type: str) -> ObjectMapping:
    """The default mapping without its custom properties (HubSpot ``crmsync_*``/``utm_*``,
    Salesforce ``*__c``) and owner: for runs that skip setup on a fresh sandbox."""
    mapping = without_owner(provider, object_type)
    custom = ("crmsync_", "utm_")
    fields = [
        f
        for f in mapping.fields
        if not f.target.startswith(custom) and not f.target.endswith("__c")
    ]
    return mapping.model_copy(update={"fields": fields})


def without_owner(provider: str, object_type: str) -> ObjectMapping:
    """The default mapping less its owner field: owner ids belong to one CRM's user list,
    and the demo's contacts go to several CRMs at once. Its custom fields stay: setup
    creates them."""
    mapping = default_mapping(provider).objects[ObjectType(object_type)]
    fields = [f for f in mapping.fields if f.source != "owner"]
    return mapping.model_copy(update={"fields": fields})


def _wait(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


class DemoCRMs:
    """The demo's sandboxes on one server: on ``port`` and up when those are free, else
    on free ports (``moved``); ``--once`` always takes free ones."""

    def __init__(self, *, once: bool, port: int = SANDBOX_PORT) -> None:
        self.port = port
        names = [n for n in DEMO_PROVIDERS if n in providers()]
        self.sandboxes: dict[str, ProviderSandbox] = {
            n: create(n, SandboxOptions(rate_profile="off")) for n in names
        }
        self.moved = False
        self.server = self._serve(0 if once else self.port)
        self.urls = {n: self.server.url(n) for n in names}
        self.integrations: dict[str, str] = {}
        self.setups: dict[str, dict[str, Any]] = {}  # each integration's setup report

    def _serve(self, port: int) -> SandboxServer:
        server = SandboxServer(list(self.sandboxes.values()), port=port)
        try:
            return server.start()
        except OSError:  # a port of the range is taken: another demo, or anything else
            server.stop()
        self.moved = True
        return SandboxServer(list(self.sandboxes.values()), port=0).start()

    def connect(
        self, api: httpx.Client, base_url: str, sessions: sessionmaker[Session]
    ) -> dict[str, str]:
        """Connect every sandbox as an integration (after clearing dead ones away)."""
        self.clear_dead(api)
        for name, sandbox in self.sandboxes.items():
            credentials, objects = DEMO_PROVIDERS[name]
            made = api.post(
                "/api/v1/integrations",
                json={
                    "provider": name,
                    "name": f"{name} sandbox",
                    "credentials": credentials(sandbox, self.urls[name]),
                    "base_url": self.urls[name],
                    "config": {"objects": objects, "frequency": "1m"},
                },
            )
            made.raise_for_status()
            integration_id = made.json()["id"]
            self.integrations[name] = integration_id
            with session_scope(sessions) as session:
                integration = session.get(Integration, uuid.UUID(integration_id))
                assert integration is not None
                for object_type in objects:
                    set_object_mapping(
                        session, integration, object_type, without_owner(name, object_type)
                    )
            self.setups[name] = api.post(f"/api/v1/integrations/{integration_id}/setup").json()
            if name == "salesforce":
                self._send_outbound_messages(sandbox, self.urls[name])
            api.post(f"/api/v1/integrations/{integration_id}/sync").raise_for_status()
        return self.integrations

    @staticmethod
    def _send_outbound_messages(sandbox: Any, url: str) -> None:
        """The admin's step setup cannot take: a rule that sends, on every contact edit,
        the Outbound Message setup made (through the org's Tooling API)."""
        token = sandbox.org.tokens.default_token
        httpx.post(
            f"{url}/services/data/v59.0/tooling/sobjects/WorkflowRule",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "FullName": "Contact.send_to_crmsync",
                "Metadata": {
                    "active": True,
                    "triggerType": "onCreateOrTriggeringUpdate",
                    "formula": "true",
                    "actions": [{"name": "crmsync_contacts", "type": "OutboundMessage"}],
                },
            },
            timeout=10,
        )

    def show_loop(self, api: httpx.Client, contacts: int) -> Iterator[str]:
        """Wait for the push, change a contact in the first CRM, wait for it to come back."""
        for name, sandbox in self.sandboxes.items():
            key = CONTACTS.get(name, "contacts")

            def arrived(box: ProviderSandbox = sandbox, key: str = key) -> bool:
                return box.counts().get(key, 0) >= contacts

            pushed = _wait(arrived)
            state = "pushed" if pushed else "still pushing"
            count = sandbox.counts().get(key, 0)
            yield f"sync:       {count}/{contacts} contacts {state} to {name}"
        if "hubspot" not in self.sandboxes:
            return
        token = _hubspot(self.sandboxes["hubspot"], "")["access_token"]
        listed = httpx.get(
            f"{self.urls['hubspot']}/crm/v3/objects/contacts",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        if not listed.get("results"):
            return
        # a title of its own each run: typing back a value the app held before reads as
        # an echo of crmsync's own push (crmsync.sync.reconcile)
        title = f"Changed in HubSpot {time.strftime('%H:%M:%S')}"
        changed = httpx.post(
            f"{self.urls['hubspot']}/_sandbox/change",
            json={
                "object_type": "contacts",
                "record_id": listed["results"][0]["id"],
                "fields": {"jobtitle": title},
            },
            timeout=10,
        )
        changed.raise_for_status()
        email = changed.json().get("properties", {}).get("email")

        def came_back() -> bool:
            found = api.get("/api/v1/contacts", params={"q": email or "", "limit": 5}).json()
            return any(c.get("job_title") == title for c in found["items"])

        back = _wait(came_back)
        result = "came back by webhook" if back else "has not come back yet"
        yield f"sync:       a contact edited in HubSpot ({email}) {result}"

    def clear_dead(self, api: httpx.Client) -> list[str]:
        """Delete the sandbox integrations of earlier demo runs whose sandbox no longer
        answers, with their links, jobs and dead letters; those of a demo running beside
        this one stay. Returns the ids deleted."""
        names = {f"{name} sandbox" for name in DEMO_PROVIDERS}
        listed = api.get("/api/v1/integrations")
        listed.raise_for_status()
        deleted = []
        for integration in listed.json()["items"]:
            if integration["name"] in names and not _answers(integration["base_url"]):
                api.delete(f"/api/v1/integrations/{integration['id']}").raise_for_status()
                deleted.append(integration["id"])
        return deleted

    def retire(self, api: httpx.Client) -> None:
        """Disable this run's integrations: their sandboxes stop with the demo."""
        for integration_id in self.integrations.values():
            with contextlib.suppress(httpx.HTTPError):  # (on the way out: never wait long)
                api.patch(
                    f"/api/v1/integrations/{integration_id}",
                    json={"status": "disabled"},
                    timeout=RETIRE_TIMEOUT,
                )

    def stop(self) -> None:
        self.server.stop()


def _answers(base_url: str | None) -> bool:
    """Whether a sandbox serves ``base_url`` now."""
    if not base_url:
        return False
    try:
        return httpx.get(f"{base_url}/_sandbox/state", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
