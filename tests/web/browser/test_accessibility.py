"""axe-core (vendored) over every page of the web app: no serious or critical violations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from crmsync.auth.permissions import Role
from tests.web.browser import data
from tests.web.browser.conftest import Served, Team

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SERIOUS = {"serious", "critical"}


def _violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate("async () => (await axe.run(document)).violations")
    return [v for v in found if v.get("impact") in SERIOUS]


def test_no_serious_violations_on_any_page(
    page: Page,
    served: Served,
    team: Team,
    sign_in_as: Callable[..., Page],
    screenshot: Callable[[Any], Path],
) -> None:
    contact_id = data.contact(
        served.sessions,
        team.workspace_id,
        first_name="Maria",
        last_name="Garcia",
        email="m@example.com",
    )
    twin = data.contact(
        served.sessions,
        team.workspace_id,
        first_name="María",
        last_name="Garcia",
        email="mg@example.com",
    )
    crm = data.integration(served.sessions, team.workspace_id)
    data.journey(served.sessions, team.workspace_id, crm, "First-time buyer")
    data.conflict(served.sessions, team.workspace_id, crm, contact_id, "city", "Seattle", "Tacoma")
    # the check itself: a page with an unlabelled image is caught
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"></main></html>')
    assert "image-alt" in {v["id"] for v in _violations(page)}
    paths = [
        "/ui/",
        "/ui/contacts",
        f"/ui/contacts/{contact_id}",
        "/ui/journeys",
        "/ui/imports",
        "/ui/integrations",
        "/ui/integrations/new?provider_name=hubspot",
        f"/ui/integrations/{crm}",
        f"/ui/integrations/{crm}/mapping",
        "/ui/sync",
        "/ui/sync/dead-letters",
        "/ui/sync/conflicts",
        "/ui/duplicates",
        f"/ui/duplicates/merge?left={contact_id}&right={twin}",
        "/ui/automation",
        "/ui/people",
        "/ui/no-such-page",
    ]
    page.goto(f"{served.url}/ui/sign-in")
    problems = {"/ui/sign-in": _violations(page)}
    sign_in_as(Role.ADMIN)
    for path in paths:
        page.goto(f"{served.url}{path}")
        problems[path] = _violations(page)
    found = {p: [(v["id"], v["impact"], v["help"]) for v in vs] for p, vs in problems.items() if vs}
    assert not found, json.dumps(found, indent=1)
    screenshot(page)
