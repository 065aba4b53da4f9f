"""axe-core (vendored) over every page of the web app: no serious or critical violations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page
from pydantic import SecretStr

from crmsync.auth.permissions import Role
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from tests.web.browser.conftest import Visit

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SERIOUS = {"serious", "critical"}
LEADS = b"Email,First,Last,Lead Status\nana@example.com,Ana,Silva,Qualifed\n,No,Contact,NEW\n"


def _violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate("async () => (await axe.run(document)).violations")
    return [v for v in found if v.get("impact") in SERIOUS]


def test_no_serious_violations_on_any_page(visit: Visit) -> None:
    page = visit.page
    contact_id = visit.seed.contact(
        first_name="Maria",
        last_name="Garcia",
        email="m@example.com",
    )
    twin = visit.seed.contact(
        first_name="María",
        last_name="Garcia",
        email="mg@example.com",
    )
    crm = visit.seed.integration()
    visit.seed.journey(crm, "First-time buyer")
    visit.seed.conflict(crm, contact_id, "city", "Seattle", "Tacoma")
    rule, endpoint = visit.seed.automation(contact_id)
    visit.seed.sync_figures(crm)  # volume, lag and quota
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
        f"/ui/automation/rules/{rule}",
        f"/ui/automation/endpoints/{endpoint}",
        "/ui/alerts",
        "/ui/attribution?conversion=deal_won&group_by=channel",
        "/ui/people",
        "/ui/no-such-page",
    ]
    page.goto(visit.url("/ui/sign-in"))
    problems = {"/ui/sign-in": _violations(page)}
    visit.sign_in_as(Role.ADMIN)
    for path in paths:
        page.goto(f"{visit.served.url}{path}")
        problems[path] = _violations(page)
    # a dry run's answer
    page.goto(visit.url(f"/ui/automation/rules/{rule}"))
    page.get_by_role("button", name="Try it").click()
    page.get_by_text("It would").wait_for()
    problems["/ui/automation/rules/{id} (dry run)"] = _violations(page)
    # the import wizard's options step (severities, value maps) of a pending import
    page.goto(visit.url("/ui/imports"))
    page.get_by_label("CSV, TSV, Excel").set_input_files(
        files=[{"name": "leads.csv", "mimeType": "text/csv", "buffer": LEADS}]
    )
    page.get_by_label("The rows are").select_option("leads")
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_label("Field for Lead Status").select_option("status")
    page.get_by_role("button", name="Save mapping and preview again").click()
    page.get_by_role("group", name="Values of Lead Status (status)").wait_for()
    problems["/ui/imports/{id} (options)"] = _violations(page)
    # the OAuth form shows when the server has the provider's OAuth app
    before = visit.served.app.state.settings
    visit.served.app.state.settings = before.model_copy(
        update={"hubspot_client_id": "id", "hubspot_client_secret": SecretStr("secret")}
    )
    try:
        page.goto(visit.url("/ui/integrations/new?provider_name=hubspot"))
        page.get_by_role("button", name="Connect with OAuth").wait_for()
        problems["/ui/integrations/new (OAuth)"] = _violations(page)
    finally:
        visit.served.app.state.settings = before
    # the CRM-side setup page of an integration with a CRM behind it (the HubSpot sandbox)
    with SandboxServer([HubSpotSandbox(batch_delay=0.01)]) as hubspot:
        token = hubspot.get("hubspot").sandbox.tokens.private_token  # type: ignore[attr-defined]
        page.goto(visit.url("/ui/integrations/new?provider_name=hubspot"))
        page.get_by_label("API address", exact=False).last.fill(hubspot.url("hubspot"))
        page.get_by_label("access token").fill(token)
        page.get_by_role("button", name="Add", exact=True).click()
        page.get_by_role("link", name="CRM-side setup").click()
        page.get_by_role("button", name="Create what is missing").wait_for()
        problems["/ui/integrations/{id}/setup"] = _violations(page)
        page.get_by_role("button", name="Create what is missing").click()
        page.get_by_text("Setup applied").wait_for()
        problems["/ui/integrations/{id}/setup (applied)"] = _violations(page)
    found = {p: [(v["id"], v["impact"], v["help"]) for v in vs] for p, vs in problems.items() if vs}
    assert not found, json.dumps(found, indent=1)
    visit.screenshot(page)
