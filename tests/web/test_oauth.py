"""Connecting a CRM by OAuth from the web app: the state is the signed-in user's, taken
once by the provider's callback, which returns to the web app with a message."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlparse

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.auth.users import create_user
from crmsync.integrations import oauth
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import session_scope
from crmsync.store.models import Integration, OAuthState, User
from tests.conftest import TestClient
from tests.web.conftest import PASSWORD, People, csrf_of, foreign_integration, sign_in


@pytest.fixture
def as_role(sandbox_app: FastAPI, people: People) -> Iterator[Callable[[Role], TestClient]]:
    made: list[TestClient] = []

    def make(role: Role) -> TestClient:
        made.append(sign_in(sandbox_app, people.emails[role]))
        return made[-1]

    yield make
    for client in made:
        client.close()


def start(client: TestClient, hubspot: SandboxServer, **fields: str) -> httpx.Response:
    form = client.get("/ui/integrations/new?provider_name=hubspot")
    data = {
        "csrf_token": csrf_of(form.text),
        "provider_name": "hubspot",
        "name": "HubSpot by OAuth",
        "base_url": hubspot.url("hubspot"),
        "direction_contacts": "both",
        **fields,
    }
    return client.post("/ui/integrations/oauth", data=data, follow_redirects=False)


def consent(client: TestClient, hubspot: SandboxServer, **fields: str) -> str:
    """Start from the page, approve at the provider: the callback's path and query."""
    started = start(client, hubspot, **fields)
    assert started.status_code == 303, started.text
    assert started.headers["location"].startswith(hubspot.url("hubspot"))
    back = httpx.get(started.headers["location"])
    assert back.status_code in (302, 303, 307), back.text
    called = urlparse(back.headers["location"])
    assert called.path == "/api/v1/oauth/hubspot/callback"
    return f"{called.path}?{called.query}"


def test_connect_by_oauth_returns_to_the_web_app(
    as_role: Callable[[Role], TestClient],
    hubspot: SandboxServer,
    people: People,
    sessions: sessionmaker[Session],
) -> None:
    manager = as_role(Role.MANAGER)
    page = manager.get("/ui/integrations/new?provider_name=hubspot")
    assert "Connect with OAuth" in page.text
    callback = consent(manager, hubspot)
    landed = manager.get(callback, follow_redirects=False)
    assert landed.status_code == 303, landed.text
    target = landed.headers["location"]
    assert target.startswith("/ui/integrations/")
    shown = manager.get(target)
    assert "HubSpot is connected as HubSpot by OAuth." in shown.text
    assert "Reconnect with OAuth" in shown.text
    integration_id = uuid.UUID(target.rsplit("/", 1)[1])
    with session_scope(sessions) as session:
        made = session.get(Integration, integration_id)
        assert made is not None and made.workspace_id == people.workspace_id
        assert made.status == "connected" and made.config["objects"] == {"contacts": "both"}
        state = session.scalars(
            select(OAuthState).where(OAuthState.workspace_id == people.workspace_id)
        ).all()[-1]
        assert state.api_key_id is None and state.used_at is not None
    # the state is single use: a replay comes back with the reason
    again = manager.get(callback, follow_redirects=False)
    assert again.headers["location"] == "/ui/integrations"
    assert "already used" in manager.get("/ui/integrations").text
    # the connection works: the sandbox took the token the exchange gave
    tested = manager.post(
        f"/ui/integrations/{integration_id}/test", data={"csrf_token": csrf_of(shown.text)}
    )
    assert "Connection works" in tested.text


def test_reconnect_keeps_the_integration(
    as_role: Callable[[Role], TestClient], hubspot: SandboxServer
) -> None:
    admin = as_role(Role.ADMIN)
    first = admin.get(consent(admin, hubspot), follow_redirects=False).headers["location"]
    integration_id = first.rsplit("/", 1)[1]
    again = consent(admin, hubspot, integration_id=integration_id)
    landed = admin.get(again, follow_redirects=False)
    assert landed.headers["location"] == first
    assert "HubSpot is reconnected" in admin.get(first).text


def test_who_may_connect_by_oauth(
    as_role: Callable[[Role], TestClient], hubspot: SandboxServer
) -> None:
    for role in (Role.AGENT, Role.VIEWER):
        client = as_role(role)
        assert client.get("/ui/integrations/new?provider_name=hubspot").status_code == 403
        token = csrf_of(client.get("/ui/contacts").text) if role is Role.AGENT else None
        refused = client.post(
            "/ui/integrations/oauth",
            data={"csrf_token": token or "", "provider_name": "hubspot"},
            follow_redirects=False,
        )
        assert refused.status_code == 403
    # without the form's CSRF token nothing starts
    manager = as_role(Role.MANAGER)
    bare = manager.post(
        "/ui/integrations/oauth", data={"provider_name": "hubspot"}, follow_redirects=False
    )
    assert bare.status_code == 403 and "security token" in bare.text


def test_a_state_dies_with_its_users_right(
    sandbox_app: FastAPI,
    hubspot: SandboxServer,
    people: People,
    sessions: sessionmaker[Session],
) -> None:
    """Demoted (or disabled) between consent and callback: the state is refused."""
    email = f"demoted-{uuid.uuid4().hex[:6]}@example.com"
    with session_scope(sessions) as session:
        create_user(session, people.workspace_id, email, "Soon Agent", "manager", PASSWORD)
    client = sign_in(sandbox_app, email)
    callback = consent(client, hubspot)
    with session_scope(sessions) as session:
        session.execute(update(User).where(User.email == email).values(role="agent"))
    landed = client.get(callback, follow_redirects=False)
    assert landed.headers["location"] == "/ui/integrations"
    flash = client.cookies.get("crmsync_flash") or ""
    assert "may%20no%20longer" in flash


def test_an_api_key_cannot_finish_a_web_users_flow(
    as_role: Callable[[Role], TestClient],
    hubspot: SandboxServer,
    sessions: sessionmaker[Session],
    people: People,
) -> None:
    from crmsync.auth.keys import create_api_key

    with session_scope(sessions) as session:
        _key, secret = create_api_key(session, people.workspace_id, Role.ADMIN)
    manager = as_role(Role.MANAGER)
    callback = consent(manager, hubspot)
    relayed = manager.get(
        callback,
        headers={"Authorization": f"Bearer {secret}", "Accept": "application/json"},
    )
    assert relayed.status_code == 422
    assert "not valid" in relayed.json()["error"]["message"]


def test_reconnecting_another_workspaces_integration_answers_404(
    as_role: Callable[[Role], TestClient],
    hubspot: SandboxServer,
    sessions: sessionmaker[Session],
) -> None:
    theirs_id = str(foreign_integration(sessions))
    manager = as_role(Role.MANAGER)
    answer = start(manager, hubspot, integration_id=theirs_id)
    assert answer.status_code == 404
    assert start(manager, hubspot, integration_id="nonsense").status_code == 422


def test_without_an_oauth_app_the_page_says_what_to_set(
    signed_in: Callable[[Role], TestClient],
) -> None:
    page = signed_in(Role.ADMIN).get("/ui/integrations/new?provider_name=hubspot")
    assert "Connect with OAuth" not in page.text
    assert "CRMSYNC_HUBSPOT_CLIENT_ID" in page.text


def test_a_state_has_exactly_one_owner(db: Session, people: People) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        oauth.start(db, None, None, people.workspace_id, None, "hubspot")  # type: ignore[arg-type]
