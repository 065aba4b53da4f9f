"""The pages behind automation: a rule's run log and dry run, an endpoint's deliveries and
replay, alerts with acknowledge, attribution with its chart. Role-scoped as the API is,
CSRF on every form, another workspace's ids are 404."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.alerts.service import raise_alert
from crmsync.auth.permissions import Role
from crmsync.automation import runner
from crmsync.automation import service as rule_service
from crmsync.outbound.emit import emit
from crmsync.outbound.webhooks.endpoints import BY_A_USER
from crmsync.records.service import create_record, update_record
from crmsync.store.engine import session_scope
from crmsync.store.models import (
    Alert,
    AutomationRule,
    OutboundEvent,
    Touchpoint,
    WebhookDelivery,
    WebhookEndpoint,
)
from crmsync.workspaces import create_workspace
from tests.conftest import TestClient
from tests.web.conftest import People, csrf_of


def _converted_lead(sessions: sessionmaker[Session], workspace_id: uuid.UUID) -> uuid.UUID:
    with session_scope(sessions) as session:
        contact = create_record(
            session,
            workspace_id,
            "contacts",
            {"first_name": "Ana", "email": "ana@x.example"},
            "api",
        )
        lead = create_record(
            session,
            workspace_id,
            "leads",
            {"first_name": "Ana", "last_name": "Lima", "contact_id": str(contact.id),
             "property_ref": "MLS-1", "status": "NEW"},
            "api",
        )  # fmt: skip
    with session_scope(sessions) as session:
        update_record(session, workspace_id, "leads", lead.id, {"status": "CONVERTED"}, "api")
    return contact.id


def _rule(sessions: sessionmaker[Session], workspace_id: uuid.UUID, name: str) -> uuid.UUID:
    with sessions() as session:
        rule_id = session.scalar(
            select(AutomationRule.id).where(
                AutomationRule.workspace_id == workspace_id, AutomationRule.name == name
            )
        )
    assert rule_id is not None
    return rule_id


def test_a_rules_run_log_and_dry_run(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        rule_service.install_template(session, people.workspace_id, "realtor-lead-status")
    rule_id = _rule(sessions, people.workspace_id, "converted-lead-becomes-deal")
    contact_id = _converted_lead(sessions, people.workspace_id)
    with session_scope(sessions) as session:
        runner.run_once(session, datetime.now(UTC) + timedelta(seconds=30))
    viewer = signed_in(Role.VIEWER)
    shown = viewer.get(f"/ui/automation/rules/{rule_id}")
    assert shown.status_code == 200
    assert "status_entered" in shown.text  # its YAML
    log = shown.text.split("Run log", 1)[1]
    assert ">done<" in log and "create_record" in log and "deals" in log
    # the dry run: readers may try it; it says what would happen and writes nothing
    token = csrf_of(shown.text)
    sample = (
        f'{{"record": {{"first_name": "Bo", "last_name": "Chen", "property_ref": "MLS-2",'
        f' "contact_id": "{contact_id}", "status": "CONVERTED"}},'
        f' "changes": {{"status": ["NEW", "CONVERTED"]}}}}'
    )
    with sessions() as session:
        deals_before = session.scalar(select(func.count()).select_from(OutboundEvent))
    tried = viewer.post(
        f"/ui/automation/rules/{rule_id}/test", data={"csrf_token": token, "sample": sample}
    )
    assert tried.status_code == 200, tried.text
    assert "It would fire" in tried.text and "Bo Chen (MLS-2)" in tried.text
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboundEvent)) == deals_before
    missed = viewer.post(
        f"/ui/automation/rules/{rule_id}/test",
        data={"csrf_token": token, "sample": '{"record": {}, "changes": {}}'},
    )
    assert "It would not fire" in missed.text
    bad = viewer.post(
        f"/ui/automation/rules/{rule_id}/test", data={"csrf_token": token, "sample": "{not json"}
    )
    assert bad.status_code == 422 and "sample:" in bad.text and "{not json" in bad.text
    # the form starts from a sample that fires the trigger
    assert "CONVERTED" in shown.text.split('id="sample"', 1)[1]
    forged = viewer.post(f"/ui/automation/rules/{rule_id}/test", data={"sample": sample})
    assert forged.status_code == 403
    # the automation page links each rule to its page
    assert f'href="/ui/automation/rules/{rule_id}"' in viewer.get("/ui/automation").text


def _endpoint_with_deliveries(
    sessions: sessionmaker[Session], workspace_id: uuid.UUID
) -> tuple[uuid.UUID, list[int]]:
    with session_scope(sessions) as session:
        endpoint = WebhookEndpoint(
            workspace_id=workspace_id,
            url="https://hooks.example/crm",
            event_types=["deal.won"],
            secret="x",  # not a vault ciphertext: off, so no deliverer ever sends to it
            enabled=False,
            disabled_reason=BY_A_USER,
        )
        session.add(endpoint)
        for n in range(2):
            emit(session, workspace_id, "deal.won", f"deal-{n}", {"n": n})
        session.flush()
        events = session.scalars(
            select(OutboundEvent)
            .where(OutboundEvent.workspace_id == workspace_id)
            .order_by(OutboundEvent.id)
        ).all()[-2:]
        endpoint.cursor = events[-1].id  # both fanned out
        rows = [
            WebhookDelivery(
                workspace_id=workspace_id,
                endpoint_id=endpoint.id,
                event_id=event.id,
                event_type=event.type,
                key=event.key,
                status=status,
                attempts=attempts,
                last_status_code=code,
            )
            for event, status, attempts, code in zip(
                events, ("succeeded", "dead"), (1, 8), (204, 503), strict=True
            )
        ]
        session.add_all(rows)
        session.flush()
        return endpoint.id, [r.id for r in rows]


def _deliveries(sessions: sessionmaker[Session], endpoint_id: uuid.UUID) -> list[WebhookDelivery]:
    with sessions() as session:
        stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        return list(session.scalars(stmt.order_by(WebhookDelivery.id)))


def test_an_endpoints_deliveries_replayed_one_or_by_time(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    endpoint_id, (ok_id, dead_id) = _endpoint_with_deliveries(sessions, people.workspace_id)
    here = f"/ui/automation/endpoints/{endpoint_id}"
    manager = signed_in(Role.MANAGER)
    shown = manager.get(here)
    assert shown.status_code == 200
    assert "deal-0" in shown.text and "deal-1" in shown.text and ">dead<" in shown.text
    only_dead = manager.get(here, params={"status": "dead"}).text
    assert "deal-1" in only_dead and "deal-0" not in only_dead
    assert manager.get(here, params={"status": "lost"}).status_code == 422
    token = csrf_of(shown.text)
    again = manager.post(f"{here}/deliveries/{dead_id}/replay", data={"csrf_token": token})
    assert again.status_code == 200 and f"Delivery {dead_id} (deal.won) goes again" in again.text
    after = _deliveries(sessions, endpoint_id)
    assert [(d.status, d.replay_of) for d in after] == [
        ("succeeded", None),
        ("dead", None),
        ("pending", dead_id),
    ]
    # a pending delivery is made due now, not copied
    pending = after[-1].id
    manager.post(f"{here}/deliveries/{pending}/replay", data={"csrf_token": token})
    assert len(_deliveries(sessions, endpoint_id)) == 3
    now = datetime.now(UTC)
    ranged = manager.post(
        f"{here}/replay",
        data={
            "csrf_token": token,
            "from": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "to": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert "2 events of that time go again." in ranged.text, re.findall(
        r"flash[^>]*>([^<]*)", ranged.text
    )
    assert len(_deliveries(sessions, endpoint_id)) == 5
    backwards = manager.post(
        f"{here}/replay",
        data={"csrf_token": token, "from": "2026-12-05T10:00", "to": "2026-12-05T09:00"},
    )
    assert backwards.status_code == 422
    assert manager.post(f"{here}/deliveries/{ok_id}/replay").status_code == 403  # no token
    assert (
        manager.post(f"{here}/deliveries/999999999/replay", data={"csrf_token": token}).status_code
        == 404
    )
    # readers do not see where the data goes; the automation page links managers here
    assert signed_in(Role.VIEWER).get(here).status_code == 403
    assert f'href="{here}"' in manager.get("/ui/automation").text


def test_alerts_listed_and_acknowledged(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        alert = raise_alert(
            session,
            people.workspace_id,
            "sync.dead_letters",
            "x",
            "warning",
            "12 dead letters",
            now,
        )
        old = raise_alert(
            session, people.workspace_id, "import.failed_rows", "y", "warning", "3 rows failed", now
        )
        old.status, old.resolved_at = "resolved", now
        alert_id = alert.id
    viewer = signed_in(Role.VIEWER)
    shown = viewer.get("/ui/alerts").text
    assert "12 dead letters" in shown and "3 rows failed" not in shown
    assert "Acknowledge sync.dead_letters" not in shown  # viewers do not operate sync
    assert "3 rows failed" in viewer.get("/ui/alerts", params={"status": "resolved"}).text
    manager = signed_in(Role.MANAGER)
    page = manager.get("/ui/alerts").text
    assert "Acknowledge sync.dead_letters" in page
    token = csrf_of(page)
    assert (
        viewer.post(
            f"/ui/alerts/{alert_id}/acknowledge", data={"csrf_token": csrf_of(shown)}
        ).status_code
        == 403
    )
    done = manager.post(f"/ui/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
    assert done.status_code == 200 and "Acknowledged: 12 dead letters" in done.text
    with sessions() as session:
        stored = session.get(Alert, alert_id)
        assert stored is not None and stored.status == "acknowledged"
        assert stored.acknowledged_by == f"user:{people.emails[Role.MANAGER]}"
    assert 'href="/ui/alerts"' in done.text  # in the navigation


def test_attribution_by_channel_and_campaign_with_a_chart(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    day = datetime.now(UTC) - timedelta(days=2)
    with session_scope(sessions) as session:
        for n, channels in enumerate((["social", "email"], ["social"], ["search"])):
            contact = create_record(
                session, people.workspace_id, "contacts", {"email": f"p{n}@x.example"}, "api"
            )
            for i, channel in enumerate(channels):
                session.add(
                    Touchpoint(
                        workspace_id=people.workspace_id,
                        contact_id=contact.id,
                        occurred_at=day + timedelta(hours=i),
                        channel=channel,
                        utm_campaign="spring-open-house" if channel == "social" else None,
                    )
                )
            session.flush()
            create_record(
                session,
                people.workspace_id,
                "deals",
                {"name": f"Deal {n}", "contact_id": str(contact.id), "stage": "CLOSED_WON",
                 "amount": str(1000 * 2**n)},
                "api",
            )  # fmt: skip
    viewer = signed_in(Role.VIEWER)
    won = {"conversion": "deal_won"}
    shown = viewer.get("/ui/attribution", params={**won, "group_by": "channel", "model": "linear"})
    assert shown.status_code == 200
    assert "3 conversions, worth 7,000.00" in shown.text
    cells = r"<tr><td>([^<]+)</td><td class=\"num\">([\d.,]+)</td><td class=\"num\">([\d.,]+)</td>"
    rows = {key: (n, value) for key, n, value in re.findall(cells, shown.text)}
    assert rows == {
        "social": ("1.50", "2,500.00"),
        "search": ("1.00", "4,000.00"),
        "email": ("0.50", "500.00"),
    }
    svg = shown.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and "search: 4,000.00" in svg  # won deals: their value
    by_campaign = viewer.get(
        "/ui/attribution", params={**won, "group_by": "campaign", "model": "first_touch"}
    )
    assert "spring-open-house" in by_campaign.text
    for model in ("last_touch", "time_decay", "position_based", "markov"):
        answer = viewer.get("/ui/attribution", params={**won, "model": model})
        assert answer.status_code == 200 and "3 conversions" in answer.text, model
    later = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    assert "0 conversions" in viewer.get("/ui/attribution", params={**won, "from": later}).text
    assert (
        viewer.get("/ui/attribution", params={"from": "2026-12-05", "to": "2026-12-01"}).status_code
        == 422
    )


def test_another_workspaces_rule_endpoint_and_alert_answer_404(
    signed_in: Callable[[Role], TestClient], sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        other = create_workspace(session, f"other {uuid.uuid4().hex[:6]}")
        rule_service.install_template(session, other.id, "realtor-lead-status")
        alert_id = raise_alert(session, other.id, "x.y", "s", "warning", "theirs", now).id
        other_id = other.id
    rule_id = _rule(sessions, other_id, "converted-lead-becomes-deal")
    endpoint_id, (delivery_id, _dead) = _endpoint_with_deliveries(sessions, other_id)
    admin = signed_in(Role.ADMIN)
    token = csrf_of(admin.get("/ui/alerts").text)
    for path in (f"/ui/automation/rules/{rule_id}", f"/ui/automation/endpoints/{endpoint_id}"):
        assert admin.get(path).status_code == 404, path
    for path in (
        f"/ui/automation/rules/{rule_id}/test",
        f"/ui/automation/endpoints/{endpoint_id}/deliveries/{delivery_id}/replay",
        f"/ui/automation/endpoints/{endpoint_id}/replay",
        f"/ui/alerts/{alert_id}/acknowledge",
    ):
        form = {
            "csrf_token": token,
            "sample": "{}",
            "from": "2026-01-01T00:00",
            "to": "2030-01-01T00:00",
        }
        assert admin.post(path, data=form).status_code == 404, path
    assert "theirs" not in admin.get("/ui/alerts").text
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.status == "open"
        assert len(_deliveries(sessions, endpoint_id)) == 2
