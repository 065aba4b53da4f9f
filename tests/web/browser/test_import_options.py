"""The import wizard in a browser: a file dropped on the drop zone, then a severity and
a value map changed in the options step until the preview says nothing fails."""

from __future__ import annotations

from playwright.sync_api import expect

from crmsync.auth.permissions import Role
from tests.web.browser.conftest import Visit

LEADS = (
    "Email,First,Last,Lead Status\n"
    "ana@example.com,Ana,Silva,Qualifed\n"
    "bo@example.com,Bo,Li,Someday\n"
    ",No,Contact,NEW\n"
)


def test_drop_a_file_then_set_severity_and_value_map(visit: Visit) -> None:
    page = visit.page
    visit.sign_in_as(Role.MANAGER)
    page.get_by_role("link", name="Imports", exact=True).click()
    expect(page.locator("#file-hint")).to_be_visible()  # the script woke the drop zone
    dropped = page.evaluate_handle(
        """([name, text]) => {
            const data = new DataTransfer();
            data.items.add(new File([text], name, {type: "text/csv"}));
            return data;
        }""",
        ["leads.csv", LEADS],
    )
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": dropped})
    expect(page.locator("#file-hint")).to_have_text("Chosen: leads.csv")
    page.get_by_label("The rows are").select_option("leads")
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("status")).to_contain_text("Uploaded")
    page.get_by_label("Field for Lead Status").select_option("status")
    page.get_by_role("button", name="Save mapping and preview again").click()
    expect(page.get_by_role("main")).to_contain_text("3 would fail")
    # the suggestion for the misspelt status comes preselected
    expect(page.get_by_label("Qualifed")).to_have_value("QUALIFIED")
    page.get_by_label("Someday").select_option("LOST")
    page.get_by_label("one of email, phone is required").select_option("warning")
    page.get_by_role("button", name="Save mapping and preview again").click()
    expect(page.get_by_role("main")).to_contain_text("0 would fail")
    expect(page.get_by_label("Someday")).to_have_value("LOST")
    expect(page.get_by_label("one of email, phone is required")).to_have_value("warning")
    page.get_by_role("button", name="Start the import").click()
    expect(page.locator("#progress .status")).to_have_text("completed", timeout=30_000)
    visit.screenshot(page)
