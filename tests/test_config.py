"""Settings read CRMSYNC_* variables and fail fast on what cannot work."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crmsync.config import Settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRMSYNC_DATABASE_URL", "CRMSYNC_MODE", "CRMSYNC_MAX_UPLOAD_MB"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///./crmsync.db"
    assert settings.max_upload_bytes == 10 * 1024 * 1024
    assert settings.max_body_bytes == 1024 * 1024


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMSYNC_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("CRMSYNC_MAX_UPLOAD_MB", "25")
    settings = Settings()
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.max_upload_bytes == 25 * 1024 * 1024


def test_production_without_secret_key_refuses_and_says_how(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CRMSYNC_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError) as info:
        Settings(mode="production")
    assert "CRMSYNC_SECRET_KEY" in str(info.value) and "secrets.token_urlsafe" in str(info.value)
    settings = Settings(mode="production", secret_key="k" * 32)  # type: ignore[arg-type]
    assert "k" * 32 not in repr(settings)


def test_import_limits_come_from_the_one_settings_class(monkeypatch: pytest.MonkeyPatch) -> None:
    from crmsync.imports.settings import ImportSettings

    monkeypatch.setenv("CRMSYNC_MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("CRMSYNC_MAX_ROWS", "40")
    monkeypatch.setenv("CRMSYNC_MAPPING_PROCESS_FROM_MB", "0")
    limits = ImportSettings.from_settings()
    assert (limits.max_upload_mb, limits.max_rows, limits.mapping_process_from_mb) == (3, 40, 0)
    assert ImportSettings.from_settings(max_rows=7).max_rows == 7


def test_only_config_reads_the_environment() -> None:
    """One settings class: no other module defines a pydantic BaseSettings."""
    import ast
    from pathlib import Path

    import crmsync

    root = Path(crmsync.__file__).parent
    readers = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", getattr(base, "attr", None)) == "BaseSettings"
                for base in node.bases
            ):
                readers.append(f"{path.relative_to(root)}:{node.name}")
    assert readers == ["config.py:Settings"]
