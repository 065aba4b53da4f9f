"""The realtor platform's lead-status rules over sockets: a lead set to CONVERTED through
the API fires the template's rule, which makes a deal linked to the lead's contact, and
the deal reaches the Pipedrive sandbox linked to that person (Pipedrive's numeric id)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.automation import runner
from crmsync.config import Settings
from crmsync.demo import ServerThread
from crmsync.demo_crms import DEMO_PROVIDERS
from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.pipedrive.sandbox import PipedriveSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.models import AutomationRun, Link
from crmsync.sync.targets import TargetResolver
from crmsync.sync.worker import Worker
from crmsync.workspaces import create_workspace


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[dict[str, Any]]:
    sandbox = PipedriveSandbox(SandboxOptions(rate_profile="off"))
    crm_server = SandboxServer([sandbox]).start()
    crm_url = crm_server.url("pipedrive")
    engine = make_engine(fresh_database_url)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        workspace = create_workspace(session, "realtor")
        _key, api_key = create_api_key(session, workspace.id, Role.ADMIN)
    settings = Settings(  # type: ignore[call-arg]
        database_url=fresh_database_url, mode="test", sandbox_mode=True
    )
    app_server = ServerThread(settings, 0)
    base_url = f"http://127.0.0.1:{app_server.start()}"
    api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"})
    made = api.post(
        "/api/v1/integrations",
        json={
            "provider": "pipedrive",
            "name": "Pipedrive sandbox",
            "credentials": DEMO_PROVIDERS["pipedrive"][0](sandbox, crm_url),
            "base_url": crm_url,
            "config": {
                "objects": {"contacts": "outbound", "leads": "outbound", "deals": "outbound"},
                "frequency": "1h",
            },
        },
    )
    assert made.status_code == 201, made.text
    yield {
        "api": api,
        "crm_url": crm_url,
        "sandbox": sandbox,
        "sessions": sessions,
        "integration_id": uuid.UUID(made.json()["id"]),
        "worker": Worker(sessions, TargetResolver(settings), concurrency=1),
    }
    api.close()
    app_server.stop()
    crm_server.stop()
    engine.dispose()


def _remote_id(world: dict[str, Any], object_type: str, record_id: str) -> str | None:
    with world["sessions"]() as session:
        return session.scalar(
            select(Link.remote_id).where(
                Link.integration_id == world["integration_id"],
                Link.object_type == object_type,
                Link.record_id == uuid.UUID(record_id),
            )
        )


def test_a_converted_lead_becomes_a_deal_in_pipedrive_linked_to_the_person(
    world: dict[str, Any],
) -> None:
    api, sessions = world["api"], world["sessions"]
    assert api.post("/api/v1/rules/templates/realtor-lead-status").status_code == 200
    contact = api.post(
        "/api/v1/contacts",
        json={"first_name": "Rosa", "last_name": "Parks", "email": "rosa@buyers.example"},
    ).json()
    lead = api.post(
        "/api/v1/leads",
        json={
            "first_name": "Rosa",
            "last_name": "Parks",
            "email": "rosa@buyers.example",
            "status": "NEW",
            "contact_id": contact["id"],
            "property_ref": "MLS-4711",
            "assigned_agent": "agent@sandbox.example",  # a Pipedrive user (id 2)
        },
    )
    assert lead.status_code == 201, lead.text
    lead_id = lead.json()["id"]
    changed = api.patch(f"/api/v1/leads/{lead_id}", json={"status": "CONVERTED"})
    assert changed.status_code == 200, changed.text
    later = datetime.now(UTC) + timedelta(seconds=30)  # past the runner's settle window
    with session_scope(sessions) as session:
        assert runner.run_once(session, later)
    with sessions() as session:
        [run] = session.scalars(select(AutomationRun)).all()
    assert run.status == "done", run.error
    deals = api.get("/api/v1/deals").json()["items"]
    [deal] = [d for d in deals if d["contact_id"] == contact["id"]]
    assert deal["name"] == "Rosa Parks (MLS-4711)"
    assert deal["stage"] == "APPOINTMENT_SCHEDULED"
    assert deal["owner"] == "agent@sandbox.example"
    while world["worker"].run_once():
        pass
    person = _remote_id(world, "contacts", contact["id"])
    remote_deal = _remote_id(world, "deals", deal["id"])
    assert person is not None and remote_deal is not None
    token = world["sandbox"].oauth.api_token
    answer = httpx.get(
        f"{world['crm_url']}/api/v2/deals/{remote_deal}", params={"api_token": token}
    )
    answer.raise_for_status()
    data = answer.json()["data"]
    assert data["person_id"] == int(person)
    assert data["title"] == "Rosa Parks (MLS-4711)"
    assert data["owner_id"] == 2  # the lead's agent owns the deal
