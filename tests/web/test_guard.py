"""Sign-in, CSRF, roles and workspaces in the web app, through the ASGI test client."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Permission, Role, allows
from crmsync.records.service import create_record
from crmsync.store.engine import session_scope
from crmsync.store.models import Integration
from crmsync.web import throttle
from crmsync.web.sessions import SESSION_COOKIE
from crmsync.workspaces import create_workspace
from tests.conftest import TestClient
from tests.web.conftest import PASSWORD, People, csrf_of, sign_in

# page -> the permission the API's table gives for it
GUARDED_PAGES = {
    "/ui/": Permission.RECORDS_READ,
    "/ui/contacts": Permission.RECORDS_READ,
    "/ui/journeys": Permission.RECORDS_READ,
    "/ui/imports": Permission.RECORDS_READ,
    "/ui/integrations": Permission.INTEGRATIONS_READ,
    "/ui/integrations/new": Permission.INTEGRATIONS_MANAGE,
    "/ui/sync": Permission.INTEGRATIONS_READ,
    "/ui/sync/dead-letters": Permission.INTEGRATIONS_READ,
    "/ui/sync/conflicts": Permission.INTEGRATIONS_READ,
    "/ui/duplicates": Permission.RECORDS_READ,
    "/ui/automation": Permission.INTEGRATIONS_READ,
    "/ui/alerts": Permission.INTEGRATIONS_READ,
    "/ui/attribution": Permission.RECORDS_READ,
    "/ui/people": Permission.WORKSPACE_ADMIN,
}


def test_pages_need_sign_in(client: TestClient) -> None:
    for path in GUARDED_PAGES:
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/ui/sign-in?next=")


def test_role_matrix_matches_the_api_table(signed_in: Callable[[Role], TestClient]) -> None:
    for role in Role:
        client = signed_in(role)
        for path, permission in GUARDED_PAGES.items():
            answer = client.get(path)
            expected = 200 if allows(role, permission) else 403
            assert answer.status_code == expected, (role, path, answer.status_code)


def test_navigation_shows_only_allowed_areas(signed_in: Callable[[Role], TestClient]) -> None:
    viewer = signed_in(Role.VIEWER).get("/ui/").text
    assert 'href="/ui/people"' not in viewer and 'href="/ui/contacts"' in viewer
    admin = signed_in(Role.ADMIN).get("/ui/").text
    assert 'href="/ui/people"' in admin


def test_session_cookie_flags(app: FastAPI, people: People) -> None:
    client = TestClient(app)
    form = client.get("/ui/sign-in")
    answer = client.post(
        "/ui/sign-in",
        data={
            "email": people.emails[Role.AGENT],
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # test mode is plain HTTP; production sets it


def test_form_without_csrf_token_is_refused(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.ADMIN)
    refused = client.post("/ui/people/keys", data={"role": "viewer", "name": "no token"})
    assert refused.status_code == 403 and "security token" in refused.text
    wrong = client.post(
        "/ui/people/keys", data={"role": "viewer", "name": "x", "csrf_token": "forged"}
    )
    assert wrong.status_code == 403
    page = client.get("/ui/people").text
    assert "no token" not in page  # nothing was made
    made = client.post(
        "/ui/people/keys",
        data={"role": "viewer", "name": "with token", "csrf_token": csrf_of(page)},
    )
    assert made.status_code == 200 and "csk_" in made.text


def test_sign_in_form_needs_its_csrf_token(app: FastAPI, people: People) -> None:
    client = TestClient(app)
    client.get("/ui/sign-in")
    answer = client.post(
        "/ui/sign-in",
        data={"email": people.emails[Role.ADMIN], "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 403


def test_wrong_password_then_throttled(
    app: FastAPI, people: People, sessions: sessionmaker[Session]
) -> None:
    client = TestClient(app)
    token = csrf_of(client.get("/ui/sign-in").text)
    email = people.emails[Role.VIEWER]
    for _ in range(throttle.PER_EMAIL):
        answer = client.post(
            "/ui/sign-in", data={"email": email, "password": "wrong-password", "csrf_token": token}
        )
        assert answer.status_code == 401
    # now even the right password waits
    answer = client.post(
        "/ui/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 429
    with session_scope(sessions) as session:
        throttle.forget(session, email)


def test_sign_out_ends_the_session(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.AGENT)
    token = csrf_of(client.get("/ui/").text)
    cookie = client.cookies.get(SESSION_COOKIE)
    client.post("/ui/sign-out", data={"csrf_token": token})
    again = TestClient(client.app)
    again.cookies.set(SESSION_COOKIE, cookie or "")
    assert again.get("/ui/", follow_redirects=False).status_code == 303


def test_invitation_link_makes_a_user(
    app: FastAPI, signed_in: Callable[[Role], TestClient]
) -> None:
    admin = signed_in(Role.ADMIN)
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    page = admin.post(
        "/ui/people/invitations",
        data={"email": email, "role": "agent", "csrf_token": csrf_of(admin.get("/ui/people").text)},
    )
    link = re.search(r'class="invitation-link">([^<]+)<', page.text)
    assert link
    path = link.group(1).removeprefix("http://testserver")
    guest = TestClient(app)
    form = guest.get(path)
    assert form.status_code == 200 and email in form.text
    short = guest.post(path, data={"password": "short", "csrf_token": csrf_of(form.text)})
    assert short.status_code == 422
    joined = guest.post(
        path, data={"name": "New", "password": PASSWORD, "csrf_token": csrf_of(form.text)}
    )
    assert joined.status_code == 200 and "agent" in joined.text  # signed in, on the pipeline
    assert guest.get(path).status_code == 404  # used once
    sign_in(app, email)


def test_another_workspaces_contact_is_not_found(
    signed_in: Callable[[Role], TestClient], sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        other = create_workspace(session, "elsewhere")
        contact = create_record(
            session, other.id, "contacts", {"email": "x@elsewhere.example"}, "api"
        )
        contact_id = contact.id
    client = signed_in(Role.ADMIN)
    answer = client.get(f"/ui/contacts/{contact_id}")
    assert answer.status_code == 404
    assert "elsewhere" not in answer.text
    token = csrf_of(client.get("/ui/").text)
    enrol = client.post(
        f"/ui/contacts/{contact_id}/journeys",
        data={"journey_id": str(uuid.uuid4()), "csrf_token": token},
    )
    assert enrol.status_code == 404


def test_viewer_may_not_post(signed_in: Callable[[Role], TestClient]) -> None:
    viewer = signed_in(Role.VIEWER)
    token = csrf_of(viewer.get("/ui/").text)
    answer = viewer.post("/ui/sync/dead-letters/replay-all", data={"csrf_token": token})
    assert answer.status_code == 403 and "viewer" in answer.text


def test_unknown_page_is_an_html_404(signed_in: Callable[[Role], TestClient]) -> None:
    answer = signed_in(Role.ADMIN).get("/ui/no-such-page")
    assert answer.status_code == 404 and "<html" in answer.text


def test_other_workspaces_ids_answer_404_on_every_page(
    signed_in: Callable[[Role], TestClient], sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        other = create_workspace(session, "elsewhere too")
        crm = Integration(workspace_id=other.id, provider="hubspot", name="theirs", config={})
        session.add(crm)
        session.flush()
        crm_id = crm.id
    client = signed_in(Role.ADMIN)
    token = csrf_of(client.get("/ui/").text)
    for path in (f"/ui/integrations/{crm_id}", f"/ui/imports/{uuid.uuid4()}"):
        answer = client.get(path)
        assert answer.status_code == 404 and "theirs" not in answer.text, path
    for path in (
        f"/ui/integrations/{crm_id}/test",
        f"/ui/integrations/{crm_id}/sync",
        f"/ui/sync/conflicts/{uuid.uuid4()}/resolve",
        "/ui/sync/dead-letters/999999999/replay",
    ):
        answer = client.post(path, data={"csrf_token": token, "resolution": "local"})
        assert answer.status_code == 404, (path, answer.status_code)
