"""Connecting the HubSpot sandbox (with credentials, and by OAuth) and seeing its
contacts arrive; importing an XLSX
through the wizard with one mapping changed by hand, and downloading its error report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from crmsync.auth.permissions import Role
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.sync.targets import TargetResolver
from crmsync.sync.worker import Worker
from tests.web.browser.conftest import Served, Visit

CRM_PEOPLE = [
    ("Olivia", "Brown", "olivia.brown@example.com"),
    ("Noah", "Davis", "noah.davis@example.com"),
]


@pytest.fixture
def hubspot() -> Iterator[tuple[HubSpotSandbox, str]]:
    sandbox = HubSpotSandbox(batch_delay=0.01)
    server = SandboxServer([sandbox]).start()
    url = server.url("hubspot")
    headers = {"Authorization": f"Bearer {sandbox.tokens.private_token}"}
    for first, last, email in CRM_PEOPLE:
        made = httpx.post(
            f"{url}/crm/v3/objects/contacts",
            json={"properties": {"firstname": first, "lastname": last, "email": email}},
            headers=headers,
            timeout=10,
        )
        made.raise_for_status()
    yield sandbox, url
    server.stop()


@pytest.fixture
def worker(served: Served) -> Iterator[Worker]:
    running = Worker(served.sessions, TargetResolver(served.settings), poll_interval=0.2)
    running.start()
    yield running
    running.stop()


def test_connect_hubspot_and_see_contacts(
    visit: Visit, hubspot: tuple[HubSpotSandbox, str], worker: Worker
) -> None:
    page = visit.page
    sandbox, crm_url = hubspot
    visit.sign_in_as(Role.ADMIN)
    page.get_by_role("link", name="Integrations", exact=True).click()
    expect(page.get_by_role("main")).to_contain_text("No CRM is connected yet")
    page.get_by_role("link", name="Add a CRM").click()
    page.get_by_label("CRM").select_option(label="HubSpot")
    page.get_by_role("button", name="Choose").click()
    page.get_by_label("Name", exact=True).fill("HubSpot sandbox")
    page.get_by_label("API address", exact=False).last.fill(crm_url)
    page.get_by_label("access token").fill(sandbox.tokens.private_token)
    page.get_by_label("contacts").select_option("both")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("HubSpot sandbox is added.")
    page.get_by_role("button", name="Test the connection").click()
    expect(page.get_by_role("status")).to_contain_text("Connection works")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("status")).to_contain_text("Sync queued")

    _see_crm_contacts(page)
    page.get_by_role("link", name="Olivia Brown").click()
    expect(page.get_by_role("region", name="In the CRMs")).to_contain_text("HubSpot sandbox")
    visit.screenshot(page)


def _see_crm_contacts(page: Page) -> None:
    """The worker pulls the CRM's contacts; the list shows them once they are in."""
    page.get_by_role("link", name="Contacts", exact=True).click()
    for _ in range(60):
        if page.get_by_role("link", name="Olivia Brown").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.get_by_role("link", name="Olivia Brown")).to_be_visible()
    expect(page.get_by_role("link", name="Noah Davis")).to_be_visible()


@pytest.fixture
def oauth_worker(served: Served, hubspot: tuple[HubSpotSandbox, str]) -> Iterator[Worker]:
    """The served app and a worker that know the sandbox's OAuth app, for one test."""
    tokens = hubspot[0].tokens
    before = served.app.state.settings
    settings = before.model_copy(
        update={
            "hubspot_client_id": tokens.client_id,
            "hubspot_client_secret": SecretStr(tokens.client_secret),
        }
    )
    served.app.state.settings = settings
    running = Worker(served.sessions, TargetResolver(settings), poll_interval=0.2)
    running.start()
    yield running
    running.stop()
    served.app.state.settings = before


def test_connect_hubspot_by_oauth_and_see_contacts(
    visit: Visit, hubspot: tuple[HubSpotSandbox, str], oauth_worker: Worker
) -> None:
    page = visit.page
    sandbox, crm_url = hubspot
    visit.sign_in_as(Role.MANAGER)
    page.get_by_role("link", name="Integrations", exact=True).click()
    page.get_by_role("link", name="Add a CRM").click()
    page.get_by_label("CRM").select_option(label="HubSpot")
    page.get_by_role("button", name="Choose").click()
    by_oauth = page.get_by_role("region", name="By OAuth")
    by_oauth.get_by_label("Name", exact=True).fill("HubSpot by OAuth")
    by_oauth.get_by_label("Sign-in address").fill(crm_url)
    by_oauth.get_by_label("contacts").select_option("inbound")
    by_oauth.get_by_role("button", name="Connect with OAuth").click()
    # the sandbox's consent page approves at once and sends the browser back
    expect(page.get_by_role("status")).to_contain_text("HubSpot is connected as HubSpot by OAuth.")
    expect(page.get_by_role("heading", level=1)).to_have_text("HubSpot by OAuth")
    assert sandbox.tokens.access, "the sandbox issued no OAuth token"
    page.get_by_role("button", name="Test the connection").click()
    expect(page.get_by_role("status")).to_contain_text("Connection works")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("status")).to_contain_text("Sync queued")
    _see_crm_contacts(page)
    page.get_by_role("link", name="Olivia Brown").click()
    expect(page.get_by_role("region", name="In the CRMs")).to_contain_text("HubSpot by OAuth")
    visit.screenshot(page)


def _lead_file(folder: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Email Address", "Given name", "Family name", "Office"])
    sheet.append(["ana.silva@example.com", "Ana", "Silva", "Harbor branch"])
    sheet.append(["broken@", "Bad", "Row", "Harbor branch"])
    sheet.append(["li.wei@example.com", "Li", "Wei", "Summit branch"])
    path = folder / "leads.xlsx"
    book.save(path)
    return path


def test_import_wizard_with_a_mapping_changed_by_hand(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    visit.sign_in_as(Role.MANAGER)
    page.get_by_role("link", name="Imports", exact=True).click()
    page.get_by_label("CSV, TSV, Excel").set_input_files(_lead_file(tmp_path))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("status")).to_contain_text("Uploaded")
    expect(page.get_by_role("main")).to_contain_text("1 would fail")
    office = page.get_by_label("Field for Office")
    expect(office).to_have_value("")  # nothing suggested for it
    expect(page.get_by_label("Field for Email Address")).to_have_value("email")
    office.select_option("company")  # by hand
    page.get_by_role("button", name="Save mapping and preview again").click()
    expect(page.get_by_label("Field for Office")).to_have_value("company")
    page.get_by_role("button", name="Start the import").click()
    expect(page.locator("#progress .status")).to_have_text("completed", timeout=30_000)
    expect(page.locator("#progress")).to_contain_text("Summary")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the failed rows").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "broken@" in report and "ana.silva" not in report
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_role("link", name="Ana Silva").click()
    expect(page.get_by_role("region", name="Fields")).to_contain_text("Harbor branch")
    page.get_by_role("link", name="Imports", exact=True).click()
    expect(page.get_by_role("row", name="leads.xlsx")).to_contain_text("completed")
    visit.screenshot(page)
