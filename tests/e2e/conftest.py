"""Whole flows: a fresh database per test, crmsync served over a socket, sandboxes too
(``crm_stack``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.demo import ServerThread
from crmsync.sandbox import create
from crmsync.sandbox.base import ProviderSandbox, SandboxOptions
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.sync.targets import TargetResolver
from crmsync.sync.worker import Worker
from crmsync.workspaces import create_workspace
from tests.conftest import BACKENDS
from tests.services import pg_schema


@pytest.fixture(params=BACKENDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'e2e.db'}"
        upgrade(url)
        yield url
        return
    with pg_schema() as url:
        upgrade(url)
        yield url


@dataclass
class Stack:
    """crmsync served over a socket beside CRM sandboxes on another, with an admin's API
    client; ``connect`` adds integrations, ``start_worker`` the background worker."""

    api: httpx.Client
    sandboxes: dict[str, ProviderSandbox]
    urls: dict[str, str]
    sessions: sessionmaker[Session]
    settings: Settings
    base_url: str
    worker: Worker | None = None

    def connect(self, name: str, credentials: dict[str, Any], config: dict[str, Any]) -> str:
        """Create the integration of sandbox ``name`` through the API; its id."""
        made = self.api.post(
            "/api/v1/integrations",
            json={
                "provider": name,
                "name": name,
                "credentials": credentials,
                "base_url": self.urls[name],
                "config": config,
            },
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    def start_worker(self) -> Worker:
        self.worker = Worker(self.sessions, TargetResolver(self.settings), poll_interval=0.05)
        self.worker.start()
        return self.worker


StackOf = Callable[[Sequence[str], str], Stack]


@pytest.fixture
def crm_stack(fresh_database_url: str) -> Iterator[StackOf]:
    """Start a Stack of the given sandboxes and a workspace of the given name (once)."""
    with ExitStack() as stop:

        def start(providers: Sequence[str], workspace_name: str) -> Stack:
            sandboxes = {p: create(p, SandboxOptions(rate_profile="off")) for p in providers}
            crm_server = SandboxServer(list(sandboxes.values())).start()
            stop.callback(crm_server.stop)
            engine = make_engine(fresh_database_url)
            stop.callback(engine.dispose)
            sessions = make_sessionmaker(engine)
            with session_scope(sessions) as session:
                workspace = create_workspace(session, workspace_name)
                _key, api_key = create_api_key(session, workspace.id, Role.ADMIN)
            settings = Settings(database_url=fresh_database_url, mode="test", sandbox_mode=True)
            app_server = ServerThread(settings, 0)
            base_url = f"http://127.0.0.1:{app_server.start()}"
            stop.callback(app_server.stop)
            settings = settings.model_copy(update={"base_url": base_url})
            app_server.app.state.settings = settings
            api = httpx.Client(
                base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
            )
            stop.callback(api.close)
            urls = {name: crm_server.url(name) for name in sandboxes}
            stack = Stack(api, sandboxes, urls, sessions, settings, base_url)
            stop.callback(lambda: stack.worker.stop() if stack.worker else None)
            return stack

        yield start
