"""The embedded demo: SQLite, a demo workspace and key, sample records, the server.

Runs do not pile up: the workspace and its admin key are found again, and the sandbox
integrations of earlier runs whose sandboxes are gone are deleted (demo_crms). The API
and the sandboxes take their documented ports when free, and free ones when not.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.api.app import create_app
from crmsync.auth import users
from crmsync.auth.keys import authenticate, create_api_key
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.demo_crms import DemoCRMs
from crmsync.locations import shown
from crmsync.logging import adopt_uvicorn_loggers
from crmsync.records.service import upsert_records
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.store.models import User, Workspace
from crmsync.sync.targets import TargetResolver
from crmsync.sync.worker import Worker
from crmsync.workspaces import create_workspace

DEMO_WORKSPACE = "Demo workspace"
# Seconds Ctrl-C waits for the worker's threads to finish their groups (a group left
# running comes back by its lease at the next start).
STOP_WAIT = 5.0
KEY_FILE = "demo-key"  # in the data directory
# the demo admin's web-app password, beside the key
PASSWORD_FILE = "demo-password"  # noqa: S105 (a file name)
DEMO_ADMIN = "admin@demo.example"

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
    key_file: Path
    loaded: dict[str, int]
    admin_password: str


def prepare(settings: Settings) -> DemoSetup:
    """Migrate, find or create the demo workspace and its admin key, load the samples.

    The key is kept in the data directory (beside a SQLite database), so every run of the
    demo on one database shows the same key instead of adding one.
    """
    upgrade(settings.database_url)
    key_file = settings.files_dir / KEY_FILE
    engine = make_engine(settings.database_url)
    with session_scope(make_sessionmaker(engine)) as session:
        workspace = _demo_workspace(session)
        plaintext = _demo_key(session, workspace.id, key_file)
        password = demo_admin(session, workspace.id, settings.files_dir / PASSWORD_FILE)
        loaded = {
            record_type: len(upsert_records(session, workspace.id, record_type, items, "api"))
            for record_type, items in SAMPLE.items()
        }
    engine.dispose()
    return DemoSetup(workspace.id, plaintext, key_file, loaded, password)


def _demo_workspace(session: Session) -> Workspace:
    existing = session.scalar(select(Workspace).where(Workspace.name == DEMO_WORKSPACE))
    return existing or create_workspace(session, DEMO_WORKSPACE)


def _demo_key(session: Session, workspace_id: uuid.UUID, key_file: Path) -> str:
    """The kept demo key when it still opens the workspace as admin, else a new one."""
    if key_file.exists():
        kept = key_file.read_text(encoding="utf-8").strip()
        principal = authenticate(session, kept)
        if principal and principal.workspace_id == workspace_id and principal.role is Role.ADMIN:
            return kept
    _key, plaintext = create_api_key(session, workspace_id, Role.ADMIN, name="demo")
    _keep_secret(key_file, plaintext)
    return plaintext


def demo_admin(session: Session, workspace_id: uuid.UUID, password_file: Path) -> str:
    """The demo admin's password: the kept one while it still signs in, else a new one."""
    kept = password_file.read_text(encoding="utf-8").strip() if password_file.exists() else ""
    if kept and users.verify(session, DEMO_ADMIN, kept) is not None:
        return kept
    password = secrets.token_urlsafe(12)
    existing = session.scalar(
        select(User).where(User.workspace_id == workspace_id, User.email == DEMO_ADMIN)
    )
    if existing is None:
        users.create_user(session, workspace_id, DEMO_ADMIN, "Demo admin", "admin", password)
    else:
        users.set_password(existing, password)
        existing.disabled_at = None
    _keep_secret(password_file, password)
    return password


def _keep_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(value + "\n")


def listening_socket(host: str, port: int) -> tuple[socket.socket, bool]:
    """A socket bound to ``port`` when it is free, else to a free port; and whether the
    asked port was the one bound."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        return sock, True
    except OSError:
        sock.bind((host, 0))
        return sock, port == 0


class ServerThread:
    """uvicorn serving the API in a background thread on a socket bound beforehand."""

    def __init__(self, settings: Settings, port: int | socket.socket) -> None:
        self.app = create_app(settings)
        if isinstance(port, int):  # exactly this port (0: any free one)
            port = socket.create_server((settings.host, port))
        self.socket = port
        sock = port
        # A request still open at Ctrl-C gets a few seconds, not as long as it likes.
        config = uvicorn.Config(
            self.app, log_level="warning", log_config=None, timeout_graceful_shutdown=int(STOP_WAIT)
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )

    def start(self, timeout: float = 15.0) -> int:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        return int(self.socket.getsockname()[1])

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


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
    setup = prepare(settings)
    crms = DemoCRMs(once=once)
    # --once (scripts, CI) takes any free port; the interactive demo the documented one
    # when it is free.
    sock, asked = listening_socket(settings.host, 0 if once else settings.port)
    server = ServerThread(settings, sock)
    port = server.start()
    adopt_uvicorn_loggers()  # the servers configured uvicorn's loggers their own way
    base_url = f"http://{settings.host}:{port}"
    # Connectors check webhook signatures against the URL the CRM calls: this one.
    settings = settings.model_copy(update={"base_url": base_url})
    server.app.state.settings = settings
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    worker = Worker(
        sessions,
        TargetResolver(settings),
        poll_interval=0.2,
        keep_succeeded=timedelta(hours=settings.succeeded_job_retention_hours),
    )
    worker.start()
    main = threading.current_thread() is threading.main_thread()
    # `kill` stops the demo as Ctrl-C does: its integrations are disabled on the way out
    previous = signal.signal(signal.SIGTERM, _interrupted) if main else None
    try:
        with httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {setup.api_key}"}, timeout=30
        ) as api:
            try:
                _show(api, crms, setup, settings, sessions, say, asked=asked)
                if not once:
                    say("press Ctrl-C to stop")
                    while server.thread.is_alive():
                        server.thread.join(timeout=0.5)
            finally:
                worker.request_stop()  # no new work while the demo winds down
                crms.retire(api)  # a later `crmsync serve` must not poll dead sandboxes
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop(timeout=STOP_WAIT)
        server.stop()
        crms.stop()
        engine.dispose()
        if main:
            signal.signal(signal.SIGTERM, previous)


def _interrupted(*_: object) -> None:
    raise KeyboardInterrupt


def _show(
    api: httpx.Client,
    crms: DemoCRMs,
    setup: DemoSetup,
    settings: Settings,
    sessions: sessionmaker[Session],
    say: Callable[[str], None],
    *,
    asked: bool,
) -> None:
    base_url = settings.base_url
    linked = crms.connect(api, base_url, sessions)
    say(f"crmsync demo is running at {base_url}  (API docs: {base_url}/docs)")
    if not asked:
        say(f"note:       port {settings.port} is taken; the API uses another free port")
    say(f"database:   {shown(settings.database_url)}")
    say(f"workspace:  {setup.workspace_id}")
    say(f"API key:    {setup.api_key}   (admin; kept in {setup.key_file})")
    say(
        f"web app:    {base_url}/ui/sign-in  as {DEMO_ADMIN} with password "
        f"{setup.admin_password}  (kept in {setup.key_file.parent / PASSWORD_FILE})"
    )
    counts = smoke_check(base_url, setup.api_key)
    say("records:    " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    for name, url in crms.urls.items():
        say(f"sandbox:    {name:<11} {url}  integration {linked[name]}")
    for name, report in crms.setups.items():
        counts_of = report.get("counts") or {}
        done = ", ".join(f"{k} {v}" for k, v in counts_of.items() if v) or "nothing to do"
        say(f"setup:      {name:<11} {done}")
    if crms.moved:
        say(f"note:       sandbox ports {crms.port}+ are taken; the sandboxes use free ones")
    say(f'try:        curl -H "Authorization: Bearer {setup.api_key}" {base_url}/api/v1/contacts')
    for line in crms.show_loop(api, counts["contacts"]):
        say(line)
