"""Key rotation: every credential ends under the new key, readers never fail meanwhile,
and neither a database dump nor the logs ever hold a plaintext secret."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from typer import Typer
from typer.testing import CliRunner

from crmsync.integrations.cli import keys_app
from crmsync.integrations.rotation import rotate_all
from crmsync.integrations.schemas import IntegrationCreate
from crmsync.integrations.service import create_integration, credentials_of, list_integrations
from crmsync.integrations.vault import Vault
from crmsync.store.base import Base
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.workspaces import create_workspace
from tests.conftest import Tenant

OLD = "old-key-" + "o" * 40
NEW = "new-key-" + "n" * 40


def seed(sessions: sessionmaker[Session], vault: Vault, count: int) -> tuple[uuid.UUID, dict]:
    """A workspace with ``count`` integrations sealed by ``vault``; their tokens by id."""
    expected: dict[uuid.UUID, str] = {}
    with session_scope(sessions) as session:
        workspace = create_workspace(session, f"ws-{uuid.uuid4().hex[:6]}")
        for n in range(count):
            token = f"pat-na1-{uuid.uuid4()}"
            data = IntegrationCreate(
                provider="hubspot", name=f"i{n}", credentials={"access_token": token}
            )
            made = create_integration(session, vault, workspace.id, data, sandbox_mode=False)
            expected[made.id] = token
    return workspace.id, expected


def test_rotation_during_concurrent_reads_loses_nothing(
    sessions: sessionmaker[Session],
) -> None:
    workspace_id, expected = seed(sessions, Vault.from_secret_key(OLD), 40)
    keyring = Vault.from_secret_key(NEW, [OLD])
    done = threading.Event()
    problems: list[str] = []
    passes = [0] * 3

    def read(slot: int) -> None:
        after_done = 0
        while after_done < 2:  # keep reading until one full pass after rotation ended
            after_done += done.is_set()
            with sessions() as session:
                for row in list_integrations(session, workspace_id):
                    got = credentials_of(keyring, row)["access_token"]
                    if got != expected[row.id]:
                        problems.append(f"{row.id}: wrong token")
            passes[slot] += 1

    readers = [threading.Thread(target=read, args=(i,)) for i in range(3)]
    for thread in readers:
        thread.start()
    report = rotate_all(sessions, keyring, workspace_id=workspace_id, batch=7)
    done.set()
    for thread in readers:
        thread.join(timeout=60)
    assert problems == []
    assert all(p >= 2 for p in passes)
    assert (report.rotated, report.failed) == (40, 0)
    only_new = Vault.from_secret_key(NEW)
    with sessions() as session:
        for row in list_integrations(session, workspace_id):
            assert credentials_of(only_new, row)["access_token"] == expected[row.id]
    again = rotate_all(sessions, keyring, workspace_id=workspace_id)
    assert (again.rotated, again.current) == (0, 40)


def test_unreadable_values_are_counted_not_lost(sessions: sessionmaker[Session]) -> None:
    stranger = "lost-key-" + "x" * 40
    workspace_id, _ = seed(sessions, Vault.from_secret_key(stranger), 2)
    report = rotate_all(sessions, Vault.from_secret_key(NEW, [OLD]), workspace_id=workspace_id)
    assert (report.rotated, report.failed) == (0, 2)
    with sessions() as session:
        rows = list_integrations(session, workspace_id)
        kept = credentials_of(Vault.from_secret_key(stranger), rows[0])
        assert kept["access_token"].startswith("pat-na1-")


def dump(engine: Engine) -> str:
    """SQL text of every table: iterdump on SQLite, each row as text on PostgreSQL."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            raw = conn.connection.dbapi_connection
            return "\n".join(raw.iterdump())  # type: ignore[union-attr]
        lines = []
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(text(f'SELECT t::text FROM "{table.name}" t'))  # noqa: S608
            lines += [str(r[0]) for r in rows]
        return "\n".join(lines)


def test_a_database_dump_and_the_logs_hold_no_plaintext_secret(
    client: TestClient, tenant: Tenant, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = {
        "access_token": f"pat-na1-{uuid.uuid4()}",
        "client_secret": f"cs-{uuid.uuid4().hex}",
    }
    body = {"provider": "hubspot", "name": "dumped", "credentials": secrets}
    made = client.post("/api/v1/integrations", json=body, headers=tenant.headers())
    assert made.status_code == 201
    iid = made.json()["id"]
    client.patch(f"/api/v1/integrations/{iid}", json={"name": "x"}, headers=tenant.headers())
    client.get(f"/api/v1/integrations/{iid}", headers=tenant.headers())
    text_dump = dump(engine)
    assert iid.replace("-", "") in text_dump.replace("-", "")  # the row is in the dump
    logged = capsys.readouterr()
    for value in secrets.values():
        assert value not in text_dump
        assert value not in logged.out + logged.err
        assert value not in made.text


def test_keys_rotate_command_reports_counts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed(make_sessionmaker(engine), Vault.from_secret_key(OLD), 3)
    engine.dispose()
    cli = Typer()
    cli.add_typer(keys_app, name="keys")
    env = {
        "CRMSYNC_DATABASE_URL": url,
        "CRMSYNC_SECRET_KEY": NEW,
        "CRMSYNC_PREVIOUS_SECRET_KEYS": f"unused-{'u' * 40},{OLD}",
    }
    first = CliRunner().invoke(cli, ["keys", "rotate", "--batch", "2"], env=env)
    assert first.exit_code == 0, first.output
    assert "rotated 3, already current 0" in first.output
    second = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    assert "rotated 0, already current 3" in second.output
    missing = CliRunner().invoke(
        cli, ["keys", "rotate"], env={**env, "CRMSYNC_SECRET_KEY": "", "CRMSYNC_MODE": "dev"}
    )
    assert missing.exit_code == 2
    short = CliRunner().invoke(cli, ["keys", "rotate"], env={**env, "CRMSYNC_SECRET_KEY": "short"})
    assert short.exit_code == 2 and "at least 32" in short.output
