"""``crmsync user create`` and the demo's admin: both can sign in to the web app."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from typer.testing import CliRunner

from crmsync.auth.users import verify
from crmsync.cli import app
from crmsync.config import Settings
from crmsync.demo import DEMO_ADMIN, PASSWORD_FILE, prepare
from crmsync.store.engine import make_engine, make_sessionmaker

runner = CliRunner()


def test_user_create_makes_an_admin_who_signs_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"CRMSYNC_DATABASE_URL": url, "CRMSYNC_USER_PASSWORD": "first admin password"}
    runner.invoke(app, ["migrate"], env=env)
    workspace = runner.invoke(app, ["workspace", "create", "Acme"], env=env).stdout.strip()
    args = ["user", "create", "--workspace", workspace, "--email", "Boss@Acme.example"]
    made = runner.invoke(app, args, env=env)
    assert made.exit_code == 0, made.output
    user_id = uuid.UUID(made.stdout.strip().splitlines()[0])
    again = runner.invoke(app, args, env=env)
    assert again.exit_code == 1 and "already has an account" in again.output
    short = runner.invoke(
        app, [*args[:-1], "other@acme.example"], env={**env, "CRMSYNC_USER_PASSWORD": "short"}
    )
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    with make_sessionmaker(make_engine(url))() as session:
        user = verify(session, "boss@acme.example", "first admin password")
        assert user is not None and user.id == user_id and user.role == "admin"
        assert verify(session, "boss@acme.example", "wrong password") is None


def test_demo_admin_is_kept_across_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    settings = Settings(database_url=url, mode="demo", sandbox_mode=True)
    first = prepare(settings)
    second = prepare(settings)
    assert first.admin_password == second.admin_password
    kept = settings.files_dir / PASSWORD_FILE
    assert kept.read_text().strip() == first.admin_password
    assert kept.stat().st_mode & 0o077 == 0  # the owner's only
    with make_sessionmaker(make_engine(url))() as session:
        assert verify(session, DEMO_ADMIN, first.admin_password) is not None
    assert re.fullmatch(r"[\w-]{16}", first.admin_password)
