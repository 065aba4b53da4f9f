"""Where crmsync keeps the database and its files: one rule, from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmsync.config import Settings
from crmsync.imports.settings import ImportSettings
from crmsync.locations import data_dir_for, database_url, shown, sqlite_file


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRMSYNC_DATABASE_URL", "CRMSYNC_DATA_DIR", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)


def test_the_option_wins_over_the_environment_over_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert database_url() == "sqlite:///./crmsync.db"
    monkeypatch.setenv("CRMSYNC_DATABASE_URL", "sqlite:////srv/crm.db")
    assert database_url() == "sqlite:////srv/crm.db"
    assert database_url("postgresql://db/crm") == "postgresql://db/crm"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////srv/crm/crm.db", Path("/srv/crm/crm.db-data")),
        ("sqlite+pysqlite:////srv/x.db?timeout=5", Path("/srv/x.db-data")),
    ],
)
def test_the_data_dir_is_beside_a_sqlite_file(url: str, expected: Path) -> None:
    assert data_dir_for(url) == expected


def test_a_relative_sqlite_file_is_anchored_where_the_database_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert data_dir_for("sqlite:///./crmsync.db") == tmp_path / "crmsync.db-data"


def test_other_databases_use_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert data_dir_for("postgresql://db/crm") == tmp_path / "crmsync"
    assert data_dir_for("sqlite:///:memory:") == tmp_path / "crmsync"
    assert sqlite_file("sqlite://") is None


def test_the_setting_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMSYNC_DATA_DIR", str(tmp_path / "files"))
    assert data_dir_for("sqlite:////srv/crm.db") == tmp_path / "files"
    assert data_dir_for("sqlite:////srv/crm.db", tmp_path / "given") == tmp_path / "given"


def test_settings_and_import_settings_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMSYNC_DATABASE_URL", "sqlite:////srv/crm.db")
    assert Settings().files_dir == Path("/srv/crm.db-data")
    assert ImportSettings().data_dir == Path("/srv/crm.db-data")
    explicit = Settings(database_url="sqlite:////data/other.db")
    assert explicit.files_dir == Path("/data/other.db-data")


def test_passwords_are_masked_when_shown() -> None:
    assert shown("postgresql+psycopg://crm:s3cr%40t@db:5432/crm") == (
        "postgresql+psycopg://crm:***@db:5432/crm"
    )
    assert shown("sqlite:///./crmsync.db") == "sqlite:///./crmsync.db"
