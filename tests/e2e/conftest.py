"""Whole flows: a fresh database per test, crmsync served over a socket, sandboxes too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmsync.store.migrate import upgrade
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
