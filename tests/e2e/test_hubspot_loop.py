"""The whole loop with the HubSpot sandbox over sockets: a contact created through the
API reaches HubSpot; edited in HubSpot, it comes back by webhook and by polling."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.demo import ServerThread
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.models import WebhookEvent
from crmsync.sync.targets import TargetResolver
from crmsync.sync.worker import Worker
from crmsync.workspaces import create_workspace
from tests.e2e.waiting import wait_for


@dataclass
class Loop:
    api: httpx.Client
    crm: httpx.Client
    sandbox: HubSpotSandbox
    worker: Worker
    integration_id: str
    webhook_url: str
    sessions: Any


@pytest.fixture
def loop(fresh_database_url: str) -> Iterator[Loop]:
    sandbox = HubSpotSandbox(batch_delay=0.01)
    crm_server = SandboxServer([sandbox]).start()
    crm_url = crm_server.url("hubspot")
    engine = make_engine(fresh_database_url)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        workspace = create_workspace(session, "e2e")
        _key, api_key = create_api_key(session, workspace.id, Role.ADMIN)
    settings = Settings(
        database_url=fresh_database_url,
        mode="test",
        sandbox_mode=True,
        hubspot_client_id=sandbox.tokens.client_id,
        hubspot_client_secret=sandbox.tokens.client_secret,  # signs v3 webhooks
    )
    app_server = ServerThread(settings, 0)
    port = app_server.start()
    base_url = f"http://127.0.0.1:{port}"
    # Connectors sign-check webhooks against the URL the CRM calls: the served one.
    settings = settings.model_copy(update={"base_url": base_url})
    app_server.server.config.app.state.settings = settings
    api = httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=20
    )
    made = api.post(
        "/api/v1/integrations",
        json={
            "provider": "hubspot",
            "name": "HubSpot sandbox",
            "credentials": {"access_token": sandbox.tokens.private_token},
            "base_url": crm_url,
            "config": {
                "objects": {"contacts": "both"},
                "frequency": "1h",
                "conflict_policy": "last_write_wins",
            },
        },
    )
    assert made.status_code == 201, made.text
    integration_id = made.json()["id"]
    webhook_url = f"{base_url}/api/v1/webhooks/hubspot/{integration_id}"
    crm = httpx.Client(base_url=crm_url, timeout=10)
    crm.post("/_sandbox/webhooks", json={"url": webhook_url}).raise_for_status()
    worker = Worker(sessions, TargetResolver(settings), concurrency=1)
    yield Loop(api, crm, sandbox, worker, integration_id, webhook_url, sessions)
    api.close()
    crm.close()
    app_server.stop()
    crm_server.stop()
    engine.dispose()


def _remote_contacts(loop: Loop) -> list[dict[str, Any]]:
    answer = loop.crm.get(
        "/crm/v3/objects/contacts",
        params={"properties": "email,firstname,city"},
        headers={"Authorization": f"Bearer {loop.sandbox.tokens.private_token}"},
    )
    answer.raise_for_status()
    return list(answer.json()["results"])


def _drain(worker: Worker) -> None:
    while worker.run_once():
        pass


def test_contact_round_trip(loop: Loop) -> None:
    made = loop.api.post(
        "/api/v1/contacts", json={"email": "ana@example.com", "first_name": "Ana"}
    ).json()
    _drain(loop.worker)
    remote = [c for c in _remote_contacts(loop) if c["properties"]["email"] == "ana@example.com"]
    assert len(remote) == 1 and remote[0]["properties"]["firstname"] == "Ana"
    remote_id = remote[0]["id"]

    # Edited in HubSpot: the sandbox delivers a signed webhook; the worker polls it in.
    loop.crm.post(
        "/_sandbox/change",
        json={"object_type": "contacts", "record_id": remote_id, "fields": {"firstname": "Anabel"}},
    ).raise_for_status()
    with loop.sessions() as db:
        wait_for(lambda: db.scalar(select(func.count()).select_from(WebhookEvent)))
    wait_for(lambda: loop.worker.run_inbound_once())
    contact = loop.api.get(f"/api/v1/contacts/{made['id']}").json()
    assert contact["first_name"] == "Anabel"

    # Changed again with no webhook: the scheduled poll finds it when due.
    loop.crm.post("/_sandbox/webhooks", json={"url": None})
    loop.crm.post(
        "/_sandbox/change",
        json={"object_type": "contacts", "record_id": remote_id, "fields": {"city": "Porto"}},
    )
    loop.worker.run_inbound_once(now=datetime.now(UTC) + timedelta(hours=2))
    assert loop.api.get(f"/api/v1/contacts/{made['id']}").json()["city"] == "Porto"

    # The change from HubSpot is not pushed back to HubSpot (no echo).
    jobs = loop.api.get("/api/v1/sync-jobs", params={"status": "pending"}).json()["items"]
    assert jobs == []
    assert (
        len([c for c in _remote_contacts(loop) if c["properties"]["email"] == "ana@example.com"])
        == 1
    )


def test_manual_sync_backfills_and_reports(loop: Loop) -> None:
    # Records that existed before the integration are pushed by a manual sync.
    with loop.sessions() as db:
        from crmsync.records import service
        from crmsync.store.models import Integration

        integration = db.get(Integration, uuid.UUID(loop.integration_id))
        assert integration is not None
        for i in range(3):
            service.create_record(
                db,
                integration.workspace_id,
                "contacts",
                {"email": f"old{i}@example.com"},
                "import:legacy",
            )
        db.commit()
    _drain(loop.worker)  # realtime jobs were enqueued too: they all go out once
    emails = {c["properties"]["email"] for c in _remote_contacts(loop)}
    assert {f"old{i}@example.com" for i in range(3)} <= emails
    started = loop.api.post(
        f"/api/v1/integrations/{loop.integration_id}/sync", json={"mode": "full"}
    )
    assert started.status_code == 202
    assert started.json() == {"outbound_jobs": 3, "inbound_polls": 1}
    _drain(loop.worker)
    loop.worker.run_inbound_once()
    assert len(_remote_contacts(loop)) == 3  # unchanged records were skipped by hash
    status = loop.api.get(f"/api/v1/integrations/{loop.integration_id}/sync-status").json()
    assert status["status"] == "connected" and status["jobs"]["pending"] == 0
    assert status["last_runs"]["inbound:contacts"]["kind"] == "full"
    assert status["last_runs"]["outbound:contacts"]["skipped"] == 3
    logs = loop.api.get(
        f"/api/v1/integrations/{loop.integration_id}/sync-logs", params={"limit": 2}
    ).json()["items"]
    assert len(logs) == 2 and logs[0]["started_at"] >= logs[1]["started_at"]


def test_forged_and_replayed_webhooks_store_nothing(loop: Loop) -> None:
    body = b'[{"eventId": 1, "subscriptionType": "contact.propertyChange", "objectId": 1}]'
    now_ms = str(int(time.time() * 1000))
    forged = httpx.post(
        loop.webhook_url,
        content=body,
        headers={
            "X-HubSpot-Signature-v3": "bm90IGEgc2lnbmF0dXJl",
            "X-HubSpot-Request-Timestamp": now_ms,
            "Content-Type": "application/json",
        },
    )
    assert forged.status_code == 401
    unsigned = httpx.post(
        loop.webhook_url, content=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 401
    wrong = httpx.post(
        loop.webhook_url.replace(loop.integration_id, str(uuid.uuid4())), content=body
    )
    assert wrong.status_code == 404
    with loop.sessions() as db:
        assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 0

    # A genuine delivery is stored once; the same delivery again is a replay.
    body = b'[{"eventId": 77, "subscriptionType": "contact.propertyChange", "objectId": 5}]'
    headers = _signed(loop, body)
    first = httpx.post(loop.webhook_url, content=body, headers=headers).json()
    again = httpx.post(loop.webhook_url, content=body, headers=headers).json()
    assert (first, again) == ({"stored": 1, "replayed": 0}, {"stored": 0, "replayed": 1})
    # A stale timestamp (over 5 minutes) is refused even with a valid signature.
    stale = _signed(loop, body, at=time.time() - 600)
    assert httpx.post(loop.webhook_url, content=body, headers=stale).status_code == 401


def _signed(loop: Loop, body: bytes, at: float | None = None) -> dict[str, str]:
    """HubSpot's v3 signature: HMAC-SHA256 over method, URI, body and timestamp."""
    import base64
    import hashlib
    import hmac

    stamp = str(int((at or time.time()) * 1000))
    message = b"POST" + loop.webhook_url.encode() + body + stamp.encode()
    digest = hmac.new(loop.sandbox.tokens.client_secret.encode(), message, hashlib.sha256).digest()
    return {
        "X-HubSpot-Signature-v3": base64.b64encode(digest).decode(),
        "X-HubSpot-Request-Timestamp": stamp,
        "Content-Type": "application/json",
    }
