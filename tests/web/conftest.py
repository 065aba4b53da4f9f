"""The web app's fixtures: a workspace with one user per role, and signed-in clients."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.auth.users import create_user
from crmsync.store.engine import session_scope
from crmsync.workspaces import create_workspace
from tests.conftest import TestClient

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
