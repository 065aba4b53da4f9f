"""``crmsync serve --workers 2``: two API processes on one SQLite file take concurrent batches.

Batches are written under SQLite's one write lock; the processes must wait for each
other, never fail with "database is locked", and together store every record once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.store.models import ChangeLog, Contact
from crmsync.workspaces import create_workspace
from tests.e2e.waiting import wait_for

pytestmark = pytest.mark.slow

BATCHES = 8
PER_BATCH = 250


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def _batch(n: int) -> dict[str, list[dict[str, str]]]:
    return {
        "items": [
            {"email": f"p{n}.{i}@serve.example", "first_name": "Pat", "phone": "(206) 555-0100"}
            for i in range(PER_BATCH)
        ]
    }


@pytest.mark.skipif(not Path("/proc").exists(), reason="counts API processes through /proc")
def test_two_api_processes_share_the_port_and_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        workspace = create_workspace(session, "serve")
        _key, api_key = create_api_key(session, workspace.id, Role.AGENT)
    port = _free_port()
    env = {**os.environ, "CRMSYNC_DATABASE_URL": url, "CRMSYNC_MODE": "test"}
    command = [sys.executable, "-c", "from crmsync.cli import app; app()", "serve"]
    command += ["--workers", "2", "--no-worker", "--port", str(port)]
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=60,
    )
    try:

        def ready() -> bool:
            try:
                return client.get("/readyz").status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, process=server)
        assert len(_children(server.pid)) >= 2
        with ThreadPoolExecutor(4) as pool:
            answers = list(
                pool.map(
                    lambda n: client.post("/api/v1/contacts/batch", json=_batch(n)), range(BATCHES)
                )
            )
        assert [a.status_code for a in answers] == [200] * BATCHES, answers[0].text
        statuses = {r["status"] for a in answers for r in a.json()["results"]}
        assert statuses == {"created"}
        with sessions() as session:
            count = session.scalar(
                select(func.count())
                .select_from(Contact)
                .where(Contact.workspace_id == workspace.id)
            )
            logged = session.scalar(
                select(func.count(func.distinct(ChangeLog.record_id))).where(
                    ChangeLog.workspace_id == workspace.id
                )
            )
        assert count == logged == BATCHES * PER_BATCH
    finally:
        client.close()
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        engine.dispose()
    assert not _children(server.pid)  # the supervisor stopped its API processes
