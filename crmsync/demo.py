"""The embedded demo: SQLite, a demo workspace and key, sample records, the server."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.api.app import create_app
from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.demo_crms import DemoCRMs
from crmsync.records.service import upsert_records
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.store.models import Workspace
from crmsync.sync.targets import TargetResolver
from crmsync.sync.worker import Worker
from crmsync.workspaces import create_workspace

DEMO_WORKSPACE = "Demo workspace"

SAMPLE: dict[str, list[dict[str, Any]]] = {
    "companies": [
        {
            "external_ref": "co-1",
            "name": "Harbor Realty",
            "domain": "harborrealty.example",
            "industry": "Real estate",
            "city": "Seattle",
            "country": "US",
        },
        {
            "external_ref": "co-2",
            "name": "Summit Home Loans",
            "domain": "summitloans.example",
            "industry": "Mortgage",
            "city": "Denver",
            "country": "US",
        },
    ],
    "contacts": [
        {
            "external_ref": "c-1",
            "first_name": "Maria",
            "last_name": "Garcia",
            "email": "maria.garcia@example.com",
            "phone": "+1 206 555 0101",
            "contact_type": "borrower",
            "lifecycle_stage": "lead",
            "source": "website",
            "utm_source": "google",
            "utm_campaign": "spring-rates",
            "city": "Seattle",
        },
        {
            "external_ref": "c-2",
            "first_name": "James",
            "last_name": "O'Neil",
            "email": "james.oneil@example.com",
            "phone": "(303) 555-0102",
            "contact_type": "realtor",
            "company": "Harbor Realty",
            "city": "Seattle",
        },
        {
            "external_ref": "c-3",
            "first_name": "Priya",
            "last_name": "Shah",
            "email": "priya@summitloans.example",
            "contact_type": "loan_officer",
            "company": "Summit Home Loans",
            "job_title": "Senior Loan Officer",
        },
    ],
    "leads": [
        {
            "external_ref": "l-1",
            "first_name": "Tom",
            "last_name": "Becker",
            "email": "tom.becker@example.com",
            "status": "NEW",
            "source": "open-house",
            "budget_min": 350000,
            "budget_max": 450000,
            "preferred_areas": ["Ballard", "Fremont"],
        },
        {
            "external_ref": "l-2",
            "first_name": "Aiko",
            "last_name": "Tanaka",
            "email": "aiko.tanaka@example.com",
            "status": "QUALIFIED",
            "source": "referral",
            "budget_min": 600000,
            "budget_max": 750000,
            "preferred_areas": ["Capitol Hill"],
        },
    ],
    "deals": [
        {
            "external_ref": "d-1",
            "name": "Garcia purchase - 30y fixed",
            "pipeline": "mortgage",
            "stage": "application",
            "amount": 420000,
            "currency": "USD",
            "probability": 0.4,
        },
    ],
}


@dataclass(frozen=True)
class DemoSetup:
    workspace_id: uuid.UUID
    api_key: str
    loaded: dict[str, int]


def prepare(database_url: str) -> DemoSetup:
    """Migrate, find or create the demo workspace, make a fresh admin key, load samples."""
    upgrade(database_url)
    engine = make_engine(database_url)
    with session_scope(make_sessionmaker(engine)) as session:
        workspace = _demo_workspace(session)
        _key, plaintext = create_api_key(session, workspace.id, Role.ADMIN, name="demo")
        loaded = {
            record_type: len(upsert_records(session, workspace.id, record_type, items, "api"))
            for record_type, items in SAMPLE.items()
        }
    engine.dispose()
    return DemoSetup(workspace.id, plaintext, loaded)


def _demo_workspace(session: Session) -> Workspace:
    existing = session.scalar(select(Workspace).where(Workspace.name == DEMO_WORKSPACE))
    return existing or create_workspace(session, DEMO_WORKSPACE)


class ServerThread:
    """uvicorn serving the API in a background thread, stopped on request."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host=settings.host, port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, timeout: float = 15.0) -> int:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start; is the port free?")
            time.sleep(0.02)
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def smoke_check(base_url: str, api_key: str) -> dict[str, int]:
    """Ask the running server over HTTP what the demo should show; raise if it cannot."""
    counts = {}
    with httpx.Client(base_url=base_url, timeout=10) as client:
        client.get("/readyz").raise_for_status()
        headers = {"Authorization": f"Bearer {api_key}"}
        for record_type in SAMPLE:
            answer = client.get(f"/api/v1/{record_type}", headers=headers, params={"limit": 500})
            answer.raise_for_status()
            counts[record_type] = len(answer.json()["items"])
    return counts


def run(settings: Settings, *, once: bool, say: Callable[[str], None]) -> None:
    setup = prepare(settings.database_url)
    crms = DemoCRMs(once=once)
    server = ServerThread(settings, 0 if once else settings.port)
    port = server.start()
    base_url = f"http://{settings.host}:{port}"
    # Connectors check webhook signatures against the URL the CRM calls: this one.
    settings = settings.model_copy(update={"base_url": base_url})
    server.app.state.settings = settings
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    worker = Worker(sessions, TargetResolver(settings), poll_interval=0.2)
    worker.start()
    try:
        with httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {setup.api_key}"}, timeout=30
        ) as api:
            linked = crms.connect(api, base_url, sessions)
            say(f"crmsync demo is running at {base_url}  (API docs: {base_url}/docs)")
            say(f"database:   {settings.database_url}")
            say(f"workspace:  {setup.workspace_id}")
            say(f"API key:    {setup.api_key}   (admin; shown once)")
            counts = smoke_check(base_url, setup.api_key)
            say("records:    " + ", ".join(f"{n} {t}" for t, n in counts.items()))
            for name, url in crms.urls.items():
                say(f"sandbox:    {name:<11} {url}  integration {linked[name]}")
            say(
                f'try:        curl -H "Authorization: Bearer {setup.api_key}" '
                f"{base_url}/api/v1/contacts"
            )
            for line in crms.show_loop(api, counts["contacts"]):
                say(line)
            if not once:
                say("press Ctrl-C to stop")
                while server.thread.is_alive():
                    server.thread.join(timeout=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        server.stop()
        crms.stop()
        engine.dispose()
