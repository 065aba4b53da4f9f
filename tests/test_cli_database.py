"""Every command uses one database, says which, and refuses an unmigrated one in one line;
``crmsync --help`` loads no command's code; files go beside the database, not the cwd."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmsync.cli import app
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.workspaces import create_workspace

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
WORKSPACE = str(uuid.UUID(int=7))


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, and no database in the environment."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("CRMSYNC_DATABASE_URL", raising=False)
    monkeypatch.delenv("CRMSYNC_DATA_DIR", raising=False)
    return cwd


@pytest.mark.parametrize(
    "command",
    [
        ["dlq", "list", "--workspace", WORKSPACE],
        ["workspace", "create", "Acme"],
        ["apikey", "list", "--workspace", WORKSPACE],
        ["import", "leads.csv", "--workspace", WORKSPACE],
        ["keys", "rotate"],
    ],
)
def test_a_missing_database_is_one_line_and_nothing_is_created(
    elsewhere: Path, command: list[str]
) -> None:
    (elsewhere / "leads.csv").write_text("email\na@example.com\n")
    answer = runner.invoke(app, command, env={"CRMSYNC_SECRET_KEY": "k" * 32})
    assert answer.exit_code == 2, answer.output
    assert answer.stderr.splitlines() == [
        "database: sqlite:///./crmsync.db",
        f"there is no database at {elsewhere / 'crmsync.db'}: run `crmsync migrate` first "
        "(or set --database-url)",
    ]
    assert sorted(p.name for p in elsewhere.iterdir()) == ["leads.csv"]


def test_an_unmigrated_database_is_refused_in_one_line(elsewhere: Path) -> None:
    (elsewhere / "empty.db").touch()
    answer = runner.invoke(
        app, ["dlq", "list", "--workspace", WORKSPACE, "--database-url", "sqlite:///empty.db"]
    )
    assert answer.exit_code == 2
    assert answer.stderr.splitlines()[-1].startswith("the database has no crmsync schema: run")
    assert "Traceback" not in answer.output and len(answer.stderr.splitlines()) == 2


def test_the_environment_names_the_database_of_every_command(
    elsewhere: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    env = {"CRMSYNC_DATABASE_URL": url}
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    made = runner.invoke(app, ["workspace", "create", "Acme"], env=env)
    assert made.exit_code == 0 and f"database: {url}" in made.stderr
    listed = runner.invoke(app, ["dlq", "list", "--workspace", made.stdout.strip()], env=env)
    assert listed.exit_code == 0 and f"database: {url}" in listed.stderr
    assert not (elsewhere / "crmsync.db").exists()


def test_help_names_the_database_rule_and_imports_no_command(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from crmsync.cli import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'crmsync.imports.cli', 'crmsync.sandbox.cli',\n"
        "         'crmsync.integrations.cli', 'crmsync.store', 'uvicorn') if m in sys.modules]\n"
        "print('loaded:', heavy)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CRMSYNC_DATABASE_URL": "postgresql://crm:hunter2@db.internal/crm",
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert "loaded: []" in done.stdout
    assert "else CRMSYNC_DATABASE_URL, else sqlite:///./crmsync.db" in done.stdout
    assert "postgresql://crm:***@db.internal/crm" in done.stdout
    assert "hunter2" not in done.stdout
    for command in ("import", "sandbox", "keys", "demo", "dlq"):
        assert f" {command} " in done.stdout


def test_import_reports_go_beside_the_database_not_into_the_cwd(
    elsewhere: Path, tmp_path: Path
) -> None:
    database = tmp_path / "db" / "crm.db"
    database.parent.mkdir()
    url = f"sqlite:///{database}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        workspace = create_workspace(session, "files").id
    engine.dispose()
    source = tmp_path / "leads.csv"
    source.write_text("First Name,Email\nAna,ana@example.com\nCy,not-an-email\n")
    answer = runner.invoke(
        app, ["import", str(source), "--workspace", str(workspace), "--database-url", url]
    )
    assert answer.exit_code == 1, answer.output
    report = Path(answer.stdout.strip().splitlines()[-1])
    assert report.is_relative_to(tmp_path / "db" / "crm.db-data" / "imports")
    assert "not-an-email" in report.read_text(encoding="utf-8")
    assert list(elsewhere.iterdir()) == []
