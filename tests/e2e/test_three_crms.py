"""The loop with three CRMs at once, over sockets: a contact created through the API
reaches the HubSpot, Salesforce and Pipedrive sandboxes; edited in Salesforce it comes
back by polling, edited in Pipedrive by webhook (HTTP Basic credentials), and each change
goes on to the other two CRMs but never back to the one it came from."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crmsync.demo_crms import DEMO_PROVIDERS, standard_fields
from crmsync.sandbox.base import ProviderSandbox
from crmsync.store.engine import session_scope
from crmsync.store.models import ChangeLog, Integration, Link, SyncJob
from crmsync.sync.targets import set_object_mapping
from tests.e2e.conftest import StackOf
from tests.e2e.waiting import wait_for

PROVIDERS = ("hubspot", "salesforce", "pipedrive")
HOOK_USER, HOOK_PASSWORD = "crmsync", "hook-password-for-tests"


@dataclass
class World:
    api: httpx.Client
    sandboxes: dict[str, ProviderSandbox]
    urls: dict[str, str]
    integrations: dict[str, uuid.UUID]
    sessions: Any

    def contact(self, contact_id: str) -> dict[str, Any]:
        return dict(self.api.get(f"/api/v1/contacts/{contact_id}").json())

    def remote_id(self, provider: str, contact_id: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(
                select(Link.remote_id).where(
                    Link.integration_id == self.integrations[provider],
                    Link.record_id == uuid.UUID(contact_id),
                )
            )

    def jobs(self, provider: str, contact_id: str) -> list[SyncJob]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(SyncJob).where(
                        SyncJob.integration_id == self.integrations[provider],
                        SyncJob.record_id == uuid.UUID(contact_id),
                    )
                )
            )

    def first_names(self, contact_id: str) -> dict[str, str | None]:
        """What each CRM holds as the contact's first name now."""
        out: dict[str, str | None] = {}
        for provider in PROVIDERS:
            remote = self.remote_id(provider, contact_id)
            sandbox, url = self.sandboxes[provider], self.urls[provider]
            out[provider] = _first_name(sandbox, url, remote) if remote else None
        return out


def _first_name(sandbox: Any, url: str, remote_id: str) -> str | None:
    """Read the contact back through the CRM's own API, as a user of it would."""
    if sandbox.name == "hubspot":
        answer = httpx.get(
            f"{url}/crm/v3/objects/contacts/{remote_id}",
            params={"properties": "firstname"},
            headers={"Authorization": f"Bearer {sandbox.tokens.private_token}"},
        )
        return answer.json()["properties"].get("firstname")
    if sandbox.name == "salesforce":
        answer = httpx.get(
            f"{url}/services/data/v59.0/sobjects/Contact/{remote_id}",
            headers={"Authorization": f"Bearer {sandbox.org.tokens.default_token}"},
        )
        return answer.json().get("FirstName")
    answer = httpx.get(
        f"{url}/api/v2/persons/{remote_id}", params={"api_token": sandbox.oauth.api_token}
    )
    return answer.json()["data"].get("first_name")


@pytest.fixture
def world(crm_stack: StackOf) -> World:
    stack = crm_stack(PROVIDERS, "three CRMs")
    sessions, base_url = stack.sessions, stack.base_url
    integrations: dict[str, uuid.UUID] = {}
    config = {
        "objects": {"contacts": "both"},
        "frequency": "1h",
        "conflict_policy": "last_write_wins",
    }
    for name, sandbox in stack.sandboxes.items():
        url = stack.urls[name]
        credentials = DEMO_PROVIDERS[name][0](sandbox, url)
        if name == "pipedrive":
            credentials |= {"webhook_user": HOOK_USER, "webhook_password": HOOK_PASSWORD}
        integrations[name] = uuid.UUID(stack.connect(name, credentials, config))
        with session_scope(sessions) as session:
            integration = session.get(Integration, integrations[name])
            assert integration is not None
            set_object_mapping(session, integration, "contacts", standard_fields(name, "contacts"))
        hook: dict[str, Any] = {"url": f"{base_url}/api/v1/webhooks/{name}/{integrations[name]}"}
        if name == "pipedrive":
            hook["basic_auth"] = [HOOK_USER, HOOK_PASSWORD]
        httpx.post(f"{url}/_sandbox/webhooks", json=hook).raise_for_status()
    stack.start_worker()
    return World(stack.api, stack.sandboxes, stack.urls, integrations, sessions)


def _create(world: World) -> str:
    made = world.api.post(
        "/api/v1/contacts",
        json={
            "email": f"tri-{uuid.uuid4().hex[:8]}@example.com",
            "first_name": "Ana",
            "last_name": "Lima",
        },
    )
    assert made.status_code == 201, made.text
    contact_id = str(made.json()["id"])
    wait_for(lambda: set(world.first_names(contact_id).values()) == {"Ana"})
    return contact_id


def _sources(world: World, contact_id: str) -> list[str]:
    with world.sessions() as session:
        return list(
            session.scalars(
                select(ChangeLog.source).where(
                    ChangeLog.record_id == uuid.UUID(contact_id), ChangeLog.field == "first_name"
                )
            )
        )


_READS = ("/search", "/batch/read", "/query", "/oauth", "/token")


def _no_echo(world: World, provider: str, since: float) -> None:
    """No write reached ``provider`` after its own user's edit at ``since``: the change
    that came from it was not pushed back (the CRM's own time stamps the ChangeLog, so
    the CRM's request log, not job times, tells)."""
    writes = [
        (e["method"], e["path"])
        for e in world.sandboxes[provider].request_log.entries()
        if e["at"] > since
        and (
            e["method"] in ("PATCH", "PUT", "DELETE")
            or (e["method"] == "POST" and not any(r in e["path"] for r in _READS))
        )
    ]
    assert writes == []


def test_a_contact_reaches_all_three_crms(world: World) -> None:
    contact_id = _create(world)
    for provider in PROVIDERS:
        assert world.remote_id(provider, contact_id), provider


def test_a_salesforce_edit_comes_back_by_polling_and_goes_on_to_the_others(
    world: World,
) -> None:
    contact_id = _create(world)
    remote = world.remote_id("salesforce", contact_id)
    assert remote is not None
    world.sandboxes["salesforce"].user_change("Contact", remote, {"FirstName": "Ana Sofia"})
    edited = time.time()
    integration = world.integrations["salesforce"]
    world.api.post(f"/api/v1/integrations/{integration}/sync").raise_for_status()

    wait_for(lambda: world.contact(contact_id)["first_name"] == "Ana Sofia")
    assert f"crm:{integration}" in _sources(world, contact_id)
    wait_for(lambda: set(world.first_names(contact_id).values()) == {"Ana Sofia"})
    _no_echo(world, "salesforce", edited)


def test_a_pipedrive_edit_comes_back_by_webhook_and_goes_on_to_the_others(
    world: World,
) -> None:
    contact_id = _create(world)
    remote = world.remote_id("pipedrive", contact_id)
    assert remote is not None
    world.sandboxes["pipedrive"].user_change("persons", remote, {"first_name": "Anita"})
    edited = time.time()

    wait_for(lambda: world.contact(contact_id)["first_name"] == "Anita")
    assert f"crm:{world.integrations['pipedrive']}" in _sources(world, contact_id)
    wait_for(lambda: set(world.first_names(contact_id).values()) == {"Anita"})
    _no_echo(world, "pipedrive", edited)
