"""Browser tests: crmsync served over a socket on a fresh SQLite database, driven by
Playwright in the system's chromium (``apt-get install chromium``; Playwright's own
browser download is not used). Without chromium they skip with one line, unless
``CRMSYNC_REQUIRE_SERVICES=1`` (CI) says they must run.

Each test saves a screenshot of its final page under ``test-artifacts/web/``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.auth.users import create_user
from crmsync.config import Settings
from crmsync.demo import ServerThread
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.workspaces import create_workspace
from tests.services import services_required
from tests.web.browser.data import Seed
from tests.web.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "web"


@pytest.fixture(scope="session", autouse=True)
def _chromium() -> None:
    """Before Playwright starts: no system chromium skips (fails in CI) in one line."""
    if CHROMIUM.exists():
        return
    reason = f"no chromium at {CHROMIUM} (apt-get install chromium)"
    if services_required():
        pytest.fail(f"{reason}; CRMSYNC_REQUIRE_SERVICES=1 says browser tests must run")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """None: each module serves crmsync on a port of its own, and tests open full URLs.
    Defined here because pytest-playwright's own fallback (used when pytest-base-url is not
    installed) is an instance method of a plugin object, which pytest deprecates."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@dataclass
class Served:
    url: str
    settings: Settings
    sessions: sessionmaker[Session]
    app: Any
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """crmsync on a free port, sandbox mode on (integrations may point at 127.0.0.1)."""
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'web.db'}"
    upgrade(url)
    settings = Settings(database_url=url, mode="test", sandbox_mode=True)
    server = ServerThread(settings, 0)
    port = server.start()
    base = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"base_url": base})
    server.app.state.settings = settings
    engine = make_engine(url)
    yield Served(base, settings, make_sessionmaker(engine), server.app)
    server.stop()
    engine.dispose()


@dataclass(frozen=True)
class Team:
    workspace_id: uuid.UUID
    emails: dict[Role, str]


@pytest.fixture
def team(served: Served) -> Team:
    """A fresh workspace in the served database, one user per role."""
    tag = uuid.uuid4().hex[:8]
    with session_scope(served.sessions) as session:
        workspace = create_workspace(session, f"browser {tag}")
        emails = {}
        for role in Role:
            email = f"{role.value}-{tag}@example.com"
            create_user(session, workspace.id, email, role.value.title(), role.value, PASSWORD)
            emails[role] = email
    return Team(workspace.id, emails)


@pytest.fixture
def sign_in_as(served: Served, team: Team, page: Any) -> Callable[..., Any]:
    """Sign ``page`` in with the form, as a person would."""

    def sign_in(role: Role, target: Any = None) -> Any:
        tab = target or page
        tab.goto(f"{served.url}/ui/sign-in")
        tab.get_by_label("E-mail").fill(team.emails[role])
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_url(f"{served.url}/ui/")
        return tab

    return sign_in


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any], Path]:
    def save(tab: Any) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return save


@dataclass(frozen=True)
class Visit:
    """One test's visit: its page on the served app, a fresh team to sign in as, rows
    seeded into the team's workspace, and the screenshot saved at the end."""

    page: Page
    served: Served
    team: Team
    seed: Seed
    sign_in_as: Callable[..., Page]
    screenshot: Callable[[Any], Path]

    def url(self, path: str) -> str:
        """The served app's address of `path` (``/ui/...``)."""
        return f"{self.served.url}{path}"


@pytest.fixture
def visit(
    page: Page,
    served: Served,
    team: Team,
    sign_in_as: Callable[..., Page],
    screenshot: Callable[[Any], Path],
) -> Visit:
    """The page, a fresh team and its seeding helpers, for a test that signs in and looks."""
    return Visit(
        page, served, team, Seed(served.sessions, team.workspace_id), sign_in_as, screenshot
    )
