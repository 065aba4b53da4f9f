"""The CRM-side setup page against the HubSpot sandbox: the plan, creating what is
missing (once: a second run creates nothing), and who may do which."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.sandbox.hubspot import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from tests.web.conftest import People, connect_hubspot, csrf_of, foreign_integration, sign_in


def _count(html: str, word: str) -> int:
    found = re.search(rf"(\d+) {word}", html)
    assert found, (word, html)
    return int(found.group(1))


@pytest.fixture
def empty_hubspot() -> Iterator[SandboxServer]:
    """A HubSpot account of its own: the module's is set up by the first run already."""
    with SandboxServer([HubSpotSandbox(batch_delay=0.01)]) as server:
        yield server


def test_plan_then_create_what_is_missing(
    sandbox_app: FastAPI, empty_hubspot: SandboxServer, people: People
) -> None:
    manager = sign_in(sandbox_app, people.emails[Role.MANAGER])
    crm_id = connect_hubspot(manager, empty_hubspot)
    assert "CRM-side setup" in manager.get(f"/ui/integrations/{crm_id}").text
    planned = manager.get(f"/ui/integrations/{crm_id}/setup")
    assert planned.status_code == 200, planned.text
    missing = _count(planned.text, "missing")
    assert missing > 0 and "Create what is missing" in planned.text
    # a viewer reads the plan without the button; an agent may not apply
    viewer = sign_in(sandbox_app, people.emails[Role.VIEWER])
    shown = viewer.get(f"/ui/integrations/{crm_id}/setup")
    assert shown.status_code == 200 and "Create what is missing" not in shown.text
    agent = sign_in(sandbox_app, people.emails[Role.AGENT])
    agent_token = csrf_of(agent.get("/ui/contacts").text)
    refused = agent.post(f"/ui/integrations/{crm_id}/setup", data={"csrf_token": agent_token})
    assert refused.status_code == 403
    bare = manager.post(f"/ui/integrations/{crm_id}/setup")
    assert bare.status_code == 403  # no CSRF token
    applied = manager.post(
        f"/ui/integrations/{crm_id}/setup", data={"csrf_token": csrf_of(planned.text)}
    )
    assert applied.status_code == 200 and "Setup applied" in applied.text, applied.text
    assert _count(applied.text, "created") > 0
    # an item the CRM refuses is shown with the CRM's own words, beside the created ones
    failed = _count(applied.text, "failed")
    assert failed == 0 or 'class="bad"' in applied.text
    again = manager.get(f"/ui/integrations/{crm_id}/setup")
    assert _count(again.text, "missing") < missing
    second = manager.post(
        f"/ui/integrations/{crm_id}/setup", data={"csrf_token": csrf_of(again.text)}
    )
    assert _count(second.text, "created") == 0


def test_another_workspaces_setup_answers_404(
    sandbox_app: FastAPI, people: People, sessions: sessionmaker[Session]
) -> None:
    theirs_id = foreign_integration(sessions)
    manager = sign_in(sandbox_app, people.emails[Role.MANAGER])
    token = csrf_of(manager.get("/ui/contacts").text)
    assert manager.get(f"/ui/integrations/{theirs_id}/setup").status_code == 404
    posted = manager.post(f"/ui/integrations/{theirs_id}/setup", data={"csrf_token": token})
    assert posted.status_code == 404
