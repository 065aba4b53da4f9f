"""Scale-out: two ``crmsync worker`` processes on PostgreSQL share one queue and, through
Redis, one rate budget per integration.

Pipedrive has no upsert key, so every contact costs a search and a write, and its search
window (10 per 2 s) binds. Each worker process alone would spend the whole window; only
a shared one keeps the pair under the sandbox's limit. Afterwards every contact is in the
CRM once, each job ran once, both processes did part of the work, and the sandbox never
answered 429.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.demo import ServerThread
from crmsync.demo_crms import standard_fields
from crmsync.records.service import upsert_records
from crmsync.sandbox.pipedrive.kinds import PERSON
from crmsync.sandbox.pipedrive.sandbox import PipedriveSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.store.models import Integration, SyncJob, SyncRun
from crmsync.sync.targets import set_object_mapping
from crmsync.workspaces import create_workspace
from tests.e2e.waiting import wait_for
from tests.services import REDIS_URL, pg_schema, unavailable

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

CONTACTS = 24
WORKERS = 2
REDIS_DB = 11  # a database of its own, flushed first: windows start empty


def _redis_url() -> str:
    import redis

    url = REDIS_URL.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    return url


def _worker(database_url: str, redis_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CRMSYNC_DATABASE_URL": database_url,
        "CRMSYNC_REDIS_URL": redis_url,
        "CRMSYNC_MODE": "test",
        "CRMSYNC_SANDBOX_MODE": "1",
        "CRMSYNC_LOG_LEVEL": "DEBUG",
        "CRMSYNC_LOG_JSON": "1",
    }
    command = [sys.executable, "-c", "from crmsync.cli import app; app()", "worker"]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=out)


def _pushed(log: Path) -> int:
    """Records one worker process pushed, from its 'pushed' log lines."""
    total = 0
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("event") == "pushed":
                total += int(entry["succeeded"])
    return total


@pytest.fixture
def database_url() -> Iterator[str]:
    with pg_schema() as url:
        upgrade(url)
        yield url


def _jobs(sessions: Any, integration_id: uuid.UUID, *statuses: str) -> int:
    """How many of the integration's jobs are in one of `statuses`."""
    with sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(SyncJob)
                .where(SyncJob.integration_id == integration_id, SyncJob.status.in_(statuses))
            )
            or 0
        )


def _claiming(procs: list[subprocess.Popen[bytes]], logs: list[Path]) -> bool:
    """Whether every worker process says it runs; fails at once when one has exited."""
    for proc, log in zip(procs, logs, strict=True):
        assert proc.poll() is None, f"a worker exited: {log.read_text()[-2000:]}"
    return all("running with" in log.read_text() for log in logs)


def test_two_worker_processes_share_the_queue_and_the_rate_window(
    database_url: str, tmp_path: Path
) -> None:
    redis_url = _redis_url()
    sandbox = PipedriveSandbox()  # the 'growth' tier: search 10 per 2 s, answered with 429
    crm_server = SandboxServer([sandbox]).start()
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    procs: list[subprocess.Popen[bytes]] = []
    app_server: ServerThread | None = None
    try:
        with session_scope(sessions) as session:
            workspace = create_workspace(session, "scale-out")
            _key, api_key = create_api_key(session, workspace.id, Role.ADMIN)
        settings = Settings(database_url=database_url, mode="test", sandbox_mode=True)
        app_server = ServerThread(settings, 0)  # no worker of its own: only the two below
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{app_server.start()}",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=20,
        )
        made = api.post(
            "/api/v1/integrations",
            json={
                "provider": "pipedrive",
                "name": "Pipedrive sandbox",
                "base_url": crm_server.url("pipedrive"),
                "credentials": {"api_token": sandbox.oauth.api_token},
                "config": {"objects": {"contacts": "outbound"}},
            },
        )
        api.close()
        assert made.status_code == 201, made.text
        integration_id = uuid.UUID(made.json()["id"])
        with session_scope(sessions) as session:
            integration = session.get(Integration, integration_id)
            assert integration is not None
            set_object_mapping(
                session, integration, "contacts", standard_fields("pipedrive", "contacts")
            )

        logs = [tmp_path / f"worker{n}.log" for n in range(WORKERS)]
        procs = [_worker(database_url, redis_url, log) for log in logs]
        # Both processes must be claiming before the trickle starts: on a busy machine one
        # may take long to import, and the other would drain the queue alone.
        wait_for(lambda: _claiming(procs, logs))
        emails = [f"scale{n}@example.com" for n in range(CONTACTS)]
        # A trickle of small batches, each once the one before is claimed (a starved
        # machine must not pile them into one claim): while one worker waits on the window
        # with its claim, the other finds new jobs to claim and spends the same window.
        for start in range(0, CONTACTS, 3):
            with session_scope(sessions) as session:
                items = [
                    {"email": e, "first_name": "Scale", "last_name": f"Out{n}"}
                    for n, e in enumerate(emails[start : start + 3], start)
                ]
                upsert_records(session, workspace.id, "contacts", items, "api")
            wait_for(lambda: not _jobs(sessions, integration_id, "pending"))
        wait_for(lambda: not _jobs(sessions, integration_id, "pending", "running"))

        statuses = Counter(entry["status"] for entry in sandbox.request_log.entries())
        assert statuses[429] == 0, statuses
        with sessions() as session:
            jobs = list(
                session.scalars(select(SyncJob).where(SyncJob.integration_id == integration_id))
            )
            runs = list(
                session.scalars(select(SyncRun).where(SyncRun.integration_id == integration_id))
            )
        assert len(jobs) == CONTACTS
        assert {j.status for j in jobs} == {"succeeded"}, {j.last_error for j in jobs}
        assert all(j.attempts == 0 for j in jobs), [j.attempts for j in jobs]  # none failed
        persons = [p for p in sandbox.company.store.all(PERSON) if not p["is_deleted"]]
        remote_emails = Counter(str(p["emails"][0]["value"]) for p in persons)
        assert sorted(remote_emails) == sorted(emails)
        assert set(remote_emails.values()) == {1}  # no duplicate created by the race
        assert sum(r.succeeded for r in runs) == CONTACTS
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
        if app_server is not None:
            app_server.stop()
        crm_server.stop()
        engine.dispose()
    pushed = [_pushed(log) for log in logs]
    assert sum(pushed) == CONTACTS
    assert min(pushed) > 0, pushed  # both processes pushed, so both spent the window
