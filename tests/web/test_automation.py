"""Writing automation rules and webhook endpoints from the web app, as the API does:
those who manage integrations write, readers read, another workspace's ids are 404."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.integrations.keys import vault_for
from crmsync.outbound.webhooks import endpoints
from crmsync.store.engine import session_scope
from crmsync.store.models import AutomationRule, WebhookEndpoint
from crmsync.workspaces import create_workspace
from tests.conftest import TestClient
from tests.web.conftest import People, csrf_of, sign_in

RULES = """rules:
  - name: {name}
    trigger: {{record: deals, on: stage_entered, to: CLOSED_WON}}
    actions:
      - emit:
          type: onboarding.requested
          data: {{deal_id: "{{{{record.id}}}}"}}
"""


def test_rules_written_as_yaml_toggled_and_deleted(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    name = f"won-{uuid.uuid4().hex[:6]}"
    admin = signed_in(Role.ADMIN)
    token = csrf_of(admin.get("/ui/automation").text)
    saved = admin.post(
        "/ui/automation/rules", data={"csrf_token": token, "document": RULES.format(name=name)}
    )
    assert saved.status_code == 200 and "Rules saved: 1 created" in saved.text, saved.text
    again = admin.post(
        "/ui/automation/rules", data={"csrf_token": token, "document": RULES.format(name=name)}
    )
    assert "0 created, 0 updated, 1 unchanged" in again.text
    bad = admin.post(
        "/ui/automation/rules", data={"csrf_token": token, "document": "rules:\n  - name: x\n"}
    )
    assert bad.status_code == 422 and "trigger" in bad.text
    assert "rules:\n  - name: x" in bad.text  # what was typed, to fix
    with sessions() as session:
        rule = session.scalar(select(AutomationRule).where(AutomationRule.name == name))
        assert rule is not None and rule.enabled and rule.workspace_id == people.workspace_id
        rule_id = rule.id
    off = admin.post(f"/ui/automation/rules/{rule_id}/toggle", data={"csrf_token": token})
    assert f"{name} is off." in off.text
    with sessions() as session:
        rule = session.get(AutomationRule, rule_id)
        assert rule is not None and not rule.enabled and rule.version == 2
    installed = admin.post(
        "/ui/automation/templates", data={"csrf_token": token, "template": "health-deal-stages"}
    )
    assert "Template health-deal-stages installed" in installed.text
    unknown = admin.post("/ui/automation/templates", data={"csrf_token": token, "template": "nope"})
    assert unknown.status_code == 422
    gone = admin.post(f"/ui/automation/rules/{rule_id}/delete", data={"csrf_token": token})
    assert f"{name} is deleted" in gone.text
    with sessions() as session:
        assert session.get(AutomationRule, rule_id) is None
    # readers see the rules, no forms; they may not write
    viewer = signed_in(Role.VIEWER)
    shown = viewer.get("/ui/automation").text
    assert "closed-won-starts-onboarding" in shown and "Save the rules" not in shown
    assert "Webhook endpoints" not in shown
    agent = signed_in(Role.AGENT)
    agent_token = csrf_of(agent.get("/ui/contacts").text)
    refused = agent.post(
        "/ui/automation/rules", data={"csrf_token": agent_token, "document": "rules: []"}
    )
    assert refused.status_code == 403


def test_webhook_endpoints_added_rotated_toggled_removed(
    sandbox_app: FastAPI, people: People, sessions: sessionmaker[Session]
) -> None:
    manager = sign_in(sandbox_app, people.emails[Role.MANAGER])
    token = csrf_of(manager.get("/ui/automation").text)
    url = f"http://127.0.0.1:9/hooks/{uuid.uuid4().hex[:6]}"
    added = manager.post(
        "/ui/automation/endpoints",
        data={
            "csrf_token": token,
            "url": url,
            "event_types": "contact.created, deal.won",
            "description": "the data warehouse",
        },
    )
    assert added.status_code == 200, added.text
    shown = re.search(r"<code>(whsec_[^<]+)</code>", added.text)
    assert shown, added.text
    assert "crmsync_flash" not in added.headers.get("set-cookie", "")  # not in a cookie
    with sessions() as session:
        endpoint = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.url == url))
        assert endpoint is not None and endpoint.event_types == ["contact.created", "deal.won"]
        vault = vault_for(sandbox_app.state.settings)
        assert endpoints.secret_of(vault, endpoint) == shown.group(1)
        endpoint_id = endpoint.id
    # the secret is shown once: the page after does not carry it
    assert shown.group(1) not in manager.get("/ui/automation").text
    rotated = manager.post(
        f"/ui/automation/endpoints/{endpoint_id}/rotate", data={"csrf_token": token}
    )
    fresh = re.search(r"<code>(whsec_[^<]+)</code>", rotated.text)
    assert fresh and fresh.group(1) != shown.group(1)
    off = manager.post(f"/ui/automation/endpoints/{endpoint_id}/toggle", data={"csrf_token": token})
    assert "is off." in off.text
    with sessions() as session:
        stored = session.get(WebhookEndpoint, endpoint_id)
        assert stored is not None and not stored.enabled
        assert stored.disabled_reason == f"disabled by a user ({people.emails[Role.MANAGER]})"
    bad_url = manager.post(
        "/ui/automation/endpoints", data={"csrf_token": token, "url": "ftp://example.com/x"}
    )
    assert bad_url.status_code == 422 and "url" in bad_url.text
    bad_events = manager.post(
        "/ui/automation/endpoints",
        data={"csrf_token": token, "url": "https://example.com/x", "event_types": "Everything"},
    )
    assert bad_events.status_code == 422 and "event_types" in bad_events.text
    removed = manager.post(
        f"/ui/automation/endpoints/{endpoint_id}/delete", data={"csrf_token": token}
    )
    assert "is removed." in removed.text
    with sessions() as session:
        assert session.get(WebhookEndpoint, endpoint_id) is None


def test_another_workspaces_rules_and_endpoints_answer_404(
    signed_in: Callable[[Role], TestClient], sessions: sessionmaker[Session]
) -> None:
    from crmsync.automation import service
    from crmsync.automation.spec import parse_yaml

    with session_scope(sessions) as session:
        other = create_workspace(session, f"other {uuid.uuid4().hex[:6]}")
        rule = service.create(session, other.id, parse_yaml(RULES.format(name="theirs"))[0])
        endpoint = WebhookEndpoint(
            workspace_id=other.id, url="https://example.com/theirs", event_types=[], secret="x"
        )
        session.add(endpoint)
        session.flush()
        rule_id, endpoint_id = rule.id, endpoint.id
    admin = signed_in(Role.ADMIN)
    token = csrf_of(admin.get("/ui/automation").text)
    for path in (
        f"/ui/automation/rules/{rule_id}/toggle",
        f"/ui/automation/rules/{rule_id}/delete",
        f"/ui/automation/endpoints/{endpoint_id}/toggle",
        f"/ui/automation/endpoints/{endpoint_id}/rotate",
        f"/ui/automation/endpoints/{endpoint_id}/delete",
    ):
        assert admin.post(path, data={"csrf_token": token}).status_code == 404, path
    with sessions() as session:
        assert session.get(AutomationRule, rule_id) is not None
        assert session.get(WebhookEndpoint, endpoint_id) is not None
