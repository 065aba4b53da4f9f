"""Every page answers for the roles that may see it, in the layout."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.records.service import create_record
from crmsync.store.engine import session_scope
from crmsync.store.models import Alert, Integration, SyncRun
from tests.conftest import TestClient
from tests.web.conftest import People, csrf_of

PAGES = [
    "/ui/",
    "/ui/contacts",
    "/ui/journeys",
    "/ui/imports",
    "/ui/integrations",
    "/ui/integrations/new?provider_name=hubspot",
    "/ui/sync",
    "/ui/sync/dead-letters",
    "/ui/sync/conflicts",
    "/ui/duplicates",
    "/ui/automation",
    "/ui/people",
]


def test_admin_sees_every_page(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.ADMIN)
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:2000])
        assert "<nav" in answer.text and "Sign out" in answer.text


def _integration_with_run(session: Session, workspace_id: uuid.UUID, **run: Any) -> uuid.UUID:
    """A HubSpot integration with one succeeded run of ``run``'s kind and counts."""
    crm = Integration(workspace_id=workspace_id, provider="hubspot", name="H", config={})
    session.add(crm)
    session.flush()
    session.add(
        SyncRun(workspace_id=workspace_id, integration_id=crm.id, status="succeeded",
                started_at=datetime.now(UTC), **run)
    )  # fmt: skip
    return crm.id


def test_engagement_alerts_and_sync_volume(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        hot = create_record(
            session,
            people.workspace_id,
            "contacts",
            {"first_name": "Hot", "last_name": "Lead"},
            "api",
        )
        hot.engagement_score = 91.0  # as the engagement model leaves it
        crm_id = _integration_with_run(
            session, people.workspace_id, kind="incremental", direction="inbound",
            processed=7, failed=2,
        )  # fmt: skip
    client = signed_in(Role.AGENT)
    pipeline = client.get("/ui/").text
    alerts = pipeline.split("Engagement alerts", 1)[1].split("Deals by stage", 1)[0]
    assert "Hot Lead" in alerts and ">91<" in alerts
    page = client.get(f"/ui/integrations/{crm_id}").text
    today = datetime.now(UTC).date().isoformat()[5:]
    assert "Records processed per day: " in page and f"{today}: 7" in page
    assert f"{today}: 2" in page.split("Records failed per day", 1)[1]


def test_integration_settings_form(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        crm = Integration(
            workspace_id=people.workspace_id,
            provider="hubspot",
            name="Settings",
            config={"objects": {"contacts": "both"}, "frequency": "1h"},
        )
        session.add(crm)
        session.flush()
        crm_id = crm.id
    viewer = signed_in(Role.VIEWER)
    seen = viewer.get(f"/ui/integrations/{crm_id}").text
    assert "Save settings" not in seen and "contacts: both" in seen
    manager = signed_in(Role.MANAGER)
    token = csrf_of(manager.get(f"/ui/integrations/{crm_id}").text)
    form = {
        "csrf_token": token,
        "direction_contacts": "inbound",
        "direction_deals": "outbound",
        "frequency": "15m",
        "conflict_policy": "manual",
        "auto_sync": "false",
        "enabled": "false",
    }
    saved = manager.post(f"/ui/integrations/{crm_id}/settings", data=form)
    assert saved.status_code == 200 and "Settings saved" in saved.text
    with sessions() as session:
        stored = session.get(Integration, crm_id)
        assert stored is not None and stored.status == "disabled"
        assert stored.config["objects"] == {"contacts": "inbound", "deals": "outbound"}
        assert (stored.config["frequency"], stored.config["conflict_policy"]) == ("15m", "manual")
        assert stored.config["auto_sync"] is False
    bad = manager.post(
        f"/ui/integrations/{crm_id}/settings", data={**form, "frequency": "every tuesday"}
    )
    assert bad.status_code == 422 and "frequency" in bad.text


def test_mapping_editor_saves_yaml_and_refuses_a_bad_one(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        crm = Integration(
            workspace_id=people.workspace_id, provider="hubspot", name="Map", config={}
        )
        session.add(crm)
        session.flush()
        crm_id = crm.id
    viewer = signed_in(Role.VIEWER).get(f"/ui/integrations/{crm_id}/mapping")
    assert viewer.status_code == 200 and "firstname" in viewer.text
    assert "Save the mapping" not in viewer.text
    manager = signed_in(Role.MANAGER)
    page = manager.get(f"/ui/integrations/{crm_id}/mapping").text
    document = html.unescape(
        page.split('name="document"', 1)[1].split(">", 1)[1].split("</textarea>")[0]
    )
    changed = document.replace("target: firstname", "target: first_name_custom", 1)
    assert changed != document
    saved = manager.post(
        f"/ui/integrations/{crm_id}/mapping",
        data={"csrf_token": csrf_of(page), "document": changed},
    )
    assert saved.status_code == 200 and "Mapping saved" in saved.text
    assert "first_name_custom" in saved.text
    broken = manager.post(
        f"/ui/integrations/{crm_id}/mapping",
        data={"csrf_token": csrf_of(page), "document": "provider: hubspot\nobjects: [oops"},
    )
    assert broken.status_code == 422 and "line" in broken.text
    assert "first_name_custom" in manager.get(f"/ui/integrations/{crm_id}/mapping").text


def test_alerts_on_the_sync_page_and_acknowledge(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        alert = Alert(
            workspace_id=people.workspace_id, kind="auth_failed", subject=uuid.uuid4().hex[:12],
            severity="error", message="HubSpot refused the token", details={}, status="open",
            count=3, first_seen_at=now, last_seen_at=now,
        )  # fmt: skip
        session.add(alert)
        session.flush()
        alert_id = alert.id
    viewer = signed_in(Role.VIEWER).get("/ui/sync").text
    assert "HubSpot refused the token" in viewer and "Acknowledge" not in viewer
    manager = signed_in(Role.MANAGER)
    token = csrf_of(manager.get("/ui/sync").text)
    done = manager.post(f"/ui/sync/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
    assert done.status_code == 200 and "Acknowledged" in done.text
    with sessions() as session:
        stored = session.get(Alert, alert_id)
        assert stored is not None and stored.status == "acknowledged"
        assert stored.acknowledged_by == f"user:{people.emails[Role.MANAGER]}"


def test_the_sync_page_shows_a_skipped_push_as_skipped(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    """A push whose record was unchanged sent nothing: not "succeeded, 0/1 ok"."""
    with session_scope(sessions) as session:
        _integration_with_run(
            session, people.workspace_id, kind="realtime", direction="outbound",
            object_type="contacts", processed=1, succeeded=0, skipped=1,
        )  # fmt: skip
    page = signed_in(Role.VIEWER).get("/ui/sync").text
    assert "realtime outbound contacts: skipped, 1 unchanged" in page
    assert "0/1 ok" not in page
