"""Fixtures shared by every test: a migrated database on each backend, an app, workspaces."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.workspaces import create_workspace
from tests.services import pg_schema

warnings.filterwarnings("ignore", message=".*httpx2.*")
from fastapi.testclient import TestClient  # noqa: E402  (after the warning filter)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

# Property tests judge answers, never speed: no per-example deadline and no "too slow"
# health check, which on a loaded machine fail a correct test. A test's own @settings
# still sets its example count.
settings.register_profile("crmsync", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("crmsync")


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database, once per backend per test session."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "crmsync.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    with pg_schema() as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture(scope="session")
def app(database_url: str, engine: Engine) -> FastAPI:
    return create_test_app(database_url, engine)


def create_test_app(database_url: str, engine: Engine, **overrides: object) -> FastAPI:
    from crmsync.api.app import create_app

    settings = Settings(database_url=database_url, mode="test", **overrides)  # type: ignore[arg-type]
    return create_app(settings, engine)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@dataclass
class Tenant:
    """A fresh workspace with one API key per role."""

    id: uuid.UUID
    keys: dict[Role, str]

    def headers(self, role: Role = Role.ADMIN) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture
def make_tenant(sessions: sessionmaker[Session]) -> Callable[[], Tenant]:
    def make() -> Tenant:
        with session_scope(sessions) as session:
            workspace = create_workspace(session, f"ws-{uuid.uuid4().hex[:8]}")
            keys = {role: create_api_key(session, workspace.id, role)[1] for role in Role}
        return Tenant(workspace.id, keys)

    return make


@pytest.fixture
def tenant(make_tenant: Callable[[], Tenant]) -> Tenant:
    return make_tenant()


@pytest.fixture(autouse=True)
def _default_logging() -> Iterator[None]:
    """Commands under test configure logging globally; every test starts from defaults."""
    yield
    from crmsync.logging import reset

    reset()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last. Playwright's sync API keeps an event loop running in the main
    thread from its first browser test to the end of the session, so any later test that
    calls ``asyncio.run`` (the bus tests do) would fail; pytest's grouping of parametrised
    tests could otherwise put browser tests before them."""
    browser = [item for item in items if "/tests/web/browser/" in str(item.path)]
    if browser:
        others = [item for item in items if "/tests/web/browser/" not in str(item.path)]
        items[:] = [*others, *browser]
