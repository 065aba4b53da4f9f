"""Alerts: found, kept one per subject, resolved when cleared, e-mailed as one digest."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.alerts.rules import Thresholds
from crmsync.alerts.runner import AlertMonitor
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.store.engine import session_scope
from crmsync.store.models import Integration, OutboundEvent, SyncJob, SyncRun, Workspace
from tests.conftest import Tenant

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    with socket.socket() as probe:  # a free port (the controller checks its own by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _integration(client: TestClient, tenant: Tenant, name: str = "Main") -> uuid.UUID:
    body = {"provider": "hubspot", "name": name, "credentials": {"access_token": TOKEN}}
    made = client.post("/api/v1/integrations", json=body, headers=tenant.headers())
    assert made.status_code == 201, made.text
    return uuid.UUID(made.json()["id"])


def _monitor(sessions: sessionmaker[Session], port: int) -> AlertMonitor:
    settings = Settings(  # type: ignore[call-arg]
        mode="test",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_to="ops@broker.example, admin@broker.example",
    )
    return AlertMonitor(sessions, settings, limits=Thresholds(dead_letters=3))


def _mine(handler: Inbox, sessions: sessionmaker[Session], tenant: Tenant) -> list[Any]:
    """The digests about this test's workspace (the database is shared with other tests,
    whose workspaces have their own alerts and digests)."""
    with sessions() as session:
        name = session.scalar(select(Workspace.name).where(Workspace.id == tenant.id))
    return [m for m in handler.messages if f"] {name}:" in m["Subject"]]


def _alerts(client: TestClient, tenant: Tenant, **params: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/alerts", params=params, headers=tenant.headers(Role.VIEWER))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_a_storm_is_one_alert_per_subject_and_one_email(
    client: TestClient,
    tenant: Tenant,
    sessions: sessionmaker[Session],
    inbox: tuple[Inbox, int],
) -> None:
    handler, port = inbox
    first, second = _integration(client, tenant, "A"), _integration(client, tenant, "B")
    with session_scope(sessions) as session:
        for iid in (first, second):
            integration = session.get(Integration, iid)
            assert integration is not None
            integration.status = "needs_auth"
        now = datetime.now(UTC)
        for n in range(4):
            session.add(
                SyncJob(
                    workspace_id=tenant.id,
                    integration_id=first,
                    object_type="contacts",
                    record_id=uuid.uuid4(),
                    operation="upsert",
                    status="dead",
                    last_error=f"400 bad {n}",
                )
            )
        session.add(
            SyncRun(
                workspace_id=tenant.id,
                integration_id=second,
                kind="incremental",
                direction="outbound",
                status="completed",
                processed=20,
                failed=15,
                started_at=now,
            )
        )
    monitor = _monitor(sessions, port)
    for _ in range(5):  # the same conditions, checked again and again
        monitor.check_once()
    found = _alerts(client, tenant)
    kinds = sorted((a["kind"], a["subject"]) for a in found)
    assert kinds == sorted(
        [
            ("integration.needs_auth", str(first)),
            ("integration.needs_auth", str(second)),
            ("sync.dead_letters", str(first)),
            ("sync.failure_rate", str(second)),
        ]
    )
    assert all(a["count"] == 5 for a in found)
    assert len(_mine(handler, sessions, tenant)) == 1  # one digest, not one per check or alert
    mail = _mine(handler, sessions, tenant)[0]
    assert "4 alerts (critical)" in mail["Subject"]
    assert "ops@broker.example" in mail["To"]
    body = mail.get_payload()
    assert body.count("integration.needs_auth") == 2 and "reconnect" in body
    with sessions() as session:
        raised = session.scalars(
            select(OutboundEvent.type).where(OutboundEvent.workspace_id == tenant.id)
        ).all()
    assert raised.count("alert.raised") == 4  # for webhooks and the bus, once each
    assert raised.count("integration.needs_auth") == 2  # and under its own type


def test_a_cleared_condition_resolves_and_a_new_one_waits_for_the_interval(
    client: TestClient,
    tenant: Tenant,
    sessions: sessionmaker[Session],
    inbox: tuple[Inbox, int],
) -> None:
    handler, port = inbox
    iid = _integration(client, tenant)
    monitor = _monitor(sessions, port)
    with session_scope(sessions) as session:
        integration = session.get(Integration, iid)
        assert integration is not None
        integration.status = "needs_auth"
    now = datetime.now(UTC)
    monitor.check_once(now)
    [alert] = _alerts(client, tenant)
    ack = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=tenant.headers())
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    viewer = client.post(
        f"/api/v1/alerts/{alert['id']}/acknowledge", headers=tenant.headers(Role.VIEWER)
    )
    assert viewer.status_code == 403
    with session_scope(sessions) as session:
        integration = session.get(Integration, iid)
        assert integration is not None
        integration.status = "connected"  # reauthorised
    monitor.check_once(now + timedelta(minutes=1))
    assert _alerts(client, tenant) == []
    assert [a["kind"] for a in _alerts(client, tenant, status="resolved")] == [
        "integration.needs_auth"
    ]
    with session_scope(sessions) as session:
        integration = session.get(Integration, iid)
        assert integration is not None
        integration.status = "needs_auth"  # revoked again: a new alert
    monitor.check_once(now + timedelta(minutes=2))
    assert len(_alerts(client, tenant)) == 1
    assert len(_mine(handler, sessions, tenant)) == 1  # within 15 minutes: waits
    monitor.check_once(now + timedelta(minutes=20))
    assert len(_mine(handler, sessions, tenant)) == 2


def test_alerts_are_per_workspace(
    client: TestClient, tenant: Tenant, make_tenant: Any, sessions: sessionmaker[Session]
) -> None:
    iid = _integration(client, tenant)
    with session_scope(sessions) as session:
        integration = session.get(Integration, iid)
        assert integration is not None
        integration.status = "needs_auth"
    AlertMonitor(sessions, Settings(mode="test")).check_once()  # type: ignore[call-arg]
    [alert] = _alerts(client, tenant)
    other = make_tenant()
    assert _alerts(client, other) == []
    answer = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=other.headers())
    assert answer.status_code == 404
