"""The health app's deal-stage rules over sockets: a deal moved to closed-won in the
HubSpot sandbox comes back by webhook, fires the rule, and a ``deal.won`` webhook reaches
the app's receiver, which verifies it with the standardwebhooks library."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.automation import runner
from crmsync.config import Settings
from crmsync.demo import ServerThread
from crmsync.integrations.keys import vault_for
from crmsync.outbound.webhooks.runner import Deliverer
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.models import WebhookEvent
from crmsync.sync.targets import TargetResolver
from crmsync.sync.worker import Worker
from crmsync.workspaces import create_workspace
from tests.e2e.waiting import wait_for
from tests.outbound.receiver import Receiver, running


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[dict[str, Any]]:
    sandbox = HubSpotSandbox(batch_delay=0.01)
    crm_server = SandboxServer([sandbox]).start()
    crm_url = crm_server.url("hubspot")
    engine = make_engine(fresh_database_url)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        workspace = create_workspace(session, "health")
        _key, api_key = create_api_key(session, workspace.id, Role.ADMIN)
    settings = Settings(  # type: ignore[call-arg]
        database_url=fresh_database_url,
        mode="test",
        sandbox_mode=True,
        hubspot_client_id=sandbox.tokens.client_id,
        hubspot_client_secret=sandbox.tokens.client_secret,
    )
    app_server = ServerThread(settings, 0)
    base_url = f"http://127.0.0.1:{app_server.start()}"
    settings = settings.model_copy(update={"base_url": base_url})
    app_server.server.config.app.state.settings = settings
    api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"})
    made = api.post(
        "/api/v1/integrations",
        json={
            "provider": "hubspot",
            "name": "HubSpot sandbox",
            "credentials": {"access_token": sandbox.tokens.private_token},
            "base_url": crm_url,
            "config": {"objects": {"deals": "both"}, "frequency": "1h"},
        },
    )
    assert made.status_code == 201, made.text
    integration_id = made.json()["id"]
    crm = httpx.Client(base_url=crm_url, timeout=10)
    hook = f"{base_url}/api/v1/webhooks/hubspot/{integration_id}"
    crm.post("/_sandbox/webhooks", json={"url": hook}).raise_for_status()
    with running(Receiver()) as receiver:
        yield {
            "api": api,
            "crm": crm,
            "sandbox": sandbox,
            "sessions": sessions,
            "worker": Worker(sessions, TargetResolver(settings), concurrency=1),
            "deliverer": Deliverer(sessions, vault_for(settings), sandbox_mode=True),
            "receiver": receiver,
        }
    api.close()
    crm.close()
    app_server.stop()
    crm_server.stop()
    engine.dispose()


def test_closed_won_in_hubspot_tells_the_app_deal_won(world: dict[str, Any]) -> None:
    api, crm, sessions = world["api"], world["crm"], world["sessions"]
    receiver: Receiver = world["receiver"]
    assert api.post("/api/v1/rules/templates/health-deal-stages").status_code == 200
    endpoint = api.post(
        "/api/v1/webhook-endpoints",
        json={"url": receiver.url, "event_types": ["deal.won", "onboarding.requested"]},
    ).json()
    receiver.secret = endpoint["secret"]
    deal = api.post(
        "/api/v1/deals", json={"name": "Clinic plan", "stage": "QUALIFIED", "amount": "4800"}
    ).json()
    while world["worker"].run_once():  # pushed to HubSpot
        pass
    token = world["sandbox"].tokens.private_token
    remote = crm.get(
        "/crm/v3/objects/deals",
        params={"properties": "dealname,dealstage"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["results"]
    [remote_deal] = [d for d in remote if d["properties"]["dealname"] == "Clinic plan"]
    crm.post(
        "/_sandbox/change",
        json={"object_type": "deals", "record_id": remote_deal["id"],
              "fields": {"dealstage": "closedwon"}},
    ).raise_for_status()  # fmt: skip
    with sessions() as db:
        wait_for(lambda: db.scalar(select(func.count()).select_from(WebhookEvent)))
    wait_for(lambda: world["worker"].run_inbound_once())
    assert api.get(f"/api/v1/deals/{deal['id']}").json()["stage"] == "CLOSED_WON"
    later = datetime.now(UTC) + timedelta(seconds=30)
    with session_scope(sessions) as session:
        runner.run_once(session, later)
    while world["deliverer"].run_once(later):  # one per record per round: its order
        pass
    world["deliverer"].stop()
    assert receiver.refused_signatures == 0
    by_type = {body["type"]: body["data"] for _msg_id, body in receiver.accepted}
    assert sorted(by_type) == ["deal.won", "onboarding.requested"]  # crmsync's, the rule's
    assert by_type["deal.won"]["deal_id"] == deal["id"]
    assert by_type["deal.won"]["source"].startswith("crm:")  # it happened in HubSpot
    assert by_type["onboarding.requested"]["amount"] == "4800.00"
