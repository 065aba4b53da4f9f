"""The web app's fixtures: a workspace with one user per role, and signed-in clients."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.auth.users import create_user
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import session_scope
from crmsync.store.models import Integration
from crmsync.workspaces import create_workspace
from tests.conftest import TestClient, create_test_app

PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class People:
    workspace_id: uuid.UUID
    emails: dict[Role, str]


@pytest.fixture(scope="module")
def people(sessions: sessionmaker[Session]) -> People:
    """A workspace per module with an admin, a manager, an agent and a viewer."""
    tag = uuid.uuid4().hex[:8]
    with session_scope(sessions) as session:
        workspace = create_workspace(session, f"web {tag}")
        emails = {}
        for role in Role:
            email = f"{role.value}-{tag}@example.com"
            create_user(session, workspace.id, email, role.value.title(), role.value, PASSWORD)
            emails[role] = email
    return People(workspace.id, emails)


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(app: FastAPI, email: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(app, raise_server_exceptions=True)
    form = client.get("/ui/sign-in")
    answer = client.post(
        "/ui/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


@pytest.fixture
def signed_in(app: FastAPI, people: People) -> Iterator[Callable[[Role], TestClient]]:
    made: list[TestClient] = []

    def make(role: Role) -> TestClient:
        client = sign_in(app, people.emails[role])
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="module")
def hubspot() -> Iterator[SandboxServer]:
    """A HubSpot sandbox on a real socket."""
    with SandboxServer([HubSpotSandbox(batch_delay=0.01)]) as server:
        yield server


@pytest.fixture(scope="module")
def sandbox_app(database_url: str, engine: Engine, hubspot: SandboxServer) -> FastAPI:
    """An app in sandbox mode (integrations may point at loopback) that knows the
    sandbox's OAuth app."""
    tokens = hubspot.get("hubspot").sandbox.tokens  # type: ignore[attr-defined]
    return create_test_app(
        database_url,
        engine,
        sandbox_mode=True,
        hubspot_client_id=tokens.client_id,
        hubspot_client_secret=tokens.client_secret,
    )


def connect_hubspot(client: TestClient, hubspot: SandboxServer) -> uuid.UUID:
    """An integration with the sandbox's private-app token, added through the form."""
    sandbox = hubspot.get("hubspot").sandbox
    form = client.get("/ui/integrations/new?provider_name=hubspot")
    added = client.post(
        "/ui/integrations",
        data={
            "csrf_token": csrf_of(form.text),
            "provider_name": "hubspot",
            "name": f"HubSpot {uuid.uuid4().hex[:4]}",
            "base_url": hubspot.url("hubspot"),
            "credential_access_token": sandbox.tokens.private_token,  # type: ignore[attr-defined]
            "direction_contacts": "both",
        },
    )
    assert added.status_code == 200, added.text
    return uuid.UUID(str(added.url).rsplit("/", 1)[1])


def foreign_integration(sessions: sessionmaker[Session]) -> uuid.UUID:
    """A HubSpot integration of another workspace: every page must answer 404 for it."""
    with session_scope(sessions) as session:
        other = create_workspace(session, f"other {uuid.uuid4().hex[:6]}")
        theirs = Integration(workspace_id=other.id, provider="hubspot", name="Theirs", config={})
        session.add(theirs)
        session.flush()
        return theirs.id
