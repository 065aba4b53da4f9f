"""The CLI contract: workspace ids and keys on stdout, migrate, and the demo end to end."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from crmsync.cli import app
from crmsync.store.engine import make_engine, make_sessionmaker
from crmsync.store.models import ApiKey, Integration

runner = CliRunner()


def test_workspace_and_apikey_print_only_what_scripts_need(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"CRMSYNC_DATABASE_URL": url}
    assert runner.invoke(app, ["migrate", "--check"], env=env).exit_code == 0
    made = runner.invoke(app, ["workspace", "create", "Acme Mortgage"], env=env)
    assert made.exit_code == 0, made.output
    workspace_id = uuid.UUID(made.stdout.strip())  # stdout is exactly the id
    key = runner.invoke(
        app, ["apikey", "create", "--workspace", str(workspace_id), "--role", "viewer"], env=env
    )
    assert key.exit_code == 0, key.output
    assert key.stdout.strip().startswith("csk_") and len(key.stdout.strip().splitlines()) == 1
    listed = runner.invoke(app, ["apikey", "list", "--workspace", str(workspace_id)], env=env)
    assert "viewer" in listed.stdout and key.stdout.strip() not in listed.stdout
    other = runner.invoke(app, ["workspace", "create", "Beta Realty"], env=env).stdout.strip()
    spaces = runner.invoke(app, ["workspace", "list"], env=env)
    assert spaces.exit_code == 0, spaces.output
    rows = [line for line in spaces.stdout.splitlines() if "Acme" in line or "Beta" in line]
    assert [str(workspace_id) in rows[0], other in rows[1]] == [True, True]  # oldest first


def test_apikey_for_unknown_workspace_fails_clearly(tmp_path: Path) -> None:
    env = {"CRMSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    runner.invoke(app, ["migrate"], env=env)
    answer = runner.invoke(app, ["apikey", "create", "--workspace", str(uuid.uuid4())], env=env)
    assert answer.exit_code == 1 and "no workspace" in answer.output


def test_demo_once_runs_every_step_and_exits_0(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {"CRMSYNC_DATABASE_URL": url}
    keys = []
    for _ in range(2):  # a second run reuses the workspace and duplicates nothing
        answer = runner.invoke(app, ["demo", "--once"], env=env)
        assert answer.exit_code == 0, answer.output
        keys.append(next(w for w in answer.stdout.split() if w.startswith("csk_")))
    assert keys[0] == keys[1]  # one admin key, kept beside the database
    assert (tmp_path / "demo.db-data" / "demo-key").read_text().strip() == keys[0]
    with make_sessionmaker(make_engine(url))() as session:
        integrations = session.scalars(select(Integration)).all()
        assert session.scalar(select(func.count()).select_from(ApiKey)) == 1
    # the first run's integrations (their sandboxes gone) were removed; this run's are
    # disabled now that its sandboxes stopped
    assert sorted(i.name for i in integrations) == [
        "hubspot sandbox",
        "pipedrive sandbox",
        "salesforce sandbox",
    ]
    assert {i.status for i in integrations} == {"disabled"}
    assert "API key:" in answer.stdout and "csk_" in answer.stdout
    assert "3 contacts" in answer.stdout and "2 leads" in answer.stdout
    # the whole loop: pushed to every sandbox, and a CRM-side edit back in crmsync
    assert "3/3 contacts pushed to hubspot" in answer.stdout
    assert "3/3 contacts pushed to salesforce" in answer.stdout
    assert "3/3 contacts pushed to pipedrive" in answer.stdout
    assert "came back by webhook" in answer.stdout
