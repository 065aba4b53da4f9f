"""A database of its own for queue tests: the worker claims across all workspaces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crmsync.store.engine import make_engine, make_sessionmaker
from crmsync.store.migrate import upgrade
from tests.conftest import BACKENDS
from tests.services import pg_schema


@pytest.fixture(params=BACKENDS)
def queue_sessions(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[sessionmaker[Session]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'queue.db'}"
        upgrade(url)
        engine = make_engine(url)
        yield make_sessionmaker(engine)
        engine.dispose()
        return
    with pg_schema() as url:
        upgrade(url)
        engine = make_engine(url)
        yield make_sessionmaker(engine)
        engine.dispose()
