"""Resolving a conflict, confirming a possible duplicate, and enrolling a contact in a
journey (allowed for a loan officer, refused for a viewer), in a real browser."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from crmsync.auth.permissions import Role
from crmsync.records.service import get_record
from tests.web.browser.conftest import Visit


def test_resolve_a_conflict(visit: Visit) -> None:
    page = visit.page
    contact_id = visit.seed.contact(
        first_name="Maria",
        email="maria@example.com",
        city="Seattle",
    )
    crm = visit.seed.integration()
    visit.seed.conflict(crm, contact_id, "city", "Seattle", "Tacoma")
    visit.sign_in_as(Role.MANAGER)
    page.get_by_role("link", name="Sync", exact=True).click()
    # sync health counts the open conflict and links to it
    page.get_by_role("link", name="1", exact=True).click()
    card = page.get_by_role("region", name="city of this contact")
    expect(card).to_contain_text("Seattle")
    expect(card).to_contain_text("Tacoma")
    card.get_by_role("button", name="Keep the CRM's value").click()
    expect(page.get_by_role("status")).to_contain_text("city: kept the CRM's value")
    expect(page.get_by_role("main")).to_contain_text("No open conflicts")
    with visit.served.sessions() as session:
        assert get_record(session, visit.team.workspace_id, "contacts", contact_id).city == "Tacoma"
    page.goto(visit.url(f"/ui/contacts/{contact_id}"))
    expect(page.get_by_role("main")).to_contain_text("Tacoma")
    visit.screenshot(page)


def test_confirm_a_possible_duplicate(visit: Visit) -> None:
    page = visit.page
    people = [
        ("Katherine", "Johnson", "kjohnson@example.com"),
        ("Kathryn", "Johnson", "kathy.j@example.org"),
        ("Kate", "Johnston", "kate@example.net"),
    ]
    for first, last, email in people:
        visit.seed.contact(
            first_name=first,
            last_name=last,
            email=email,
            city="Seattle",
            phone="+1 206 555 0199" if first != "Kate" else None,
        )
    visit.sign_in_as(Role.AGENT)
    page.get_by_role("link", name="Duplicates", exact=True).click()
    pairs = page.get_by_role("region", name="Pair", exact=False)
    before = pairs.count()
    assert before >= 1
    pairs.first.get_by_role("button", name="Same person").click()
    expect(page.get_by_role("status")).to_contain_text("Confirmed: one person.")
    expect(pairs).to_have_count(before - 1)
    page.get_by_role("link", name="Confirmed", exact=True).click()
    expect(page.get_by_role("region", name="Pair 1")).to_be_visible()
    visit.screenshot(page)


def test_enrol_as_loan_officer_refused_as_viewer(visit: Visit, browser: Browser) -> None:
    page = visit.page
    contact_id = visit.seed.contact(
        first_name="James",
        last_name="Lee",
        email="jl@example.com",
    )
    crm = visit.seed.integration()
    visit.seed.journey(crm, "First-time buyer")
    contact_url = visit.url(f"/ui/contacts/{contact_id}")

    # the viewer sees the journeys but no enrol form, and a post of their own is refused
    viewer_context = browser.new_context()
    viewer = visit.sign_in_as(Role.VIEWER, viewer_context.new_page())
    viewer.goto(contact_url)
    expect(viewer.get_by_role("main")).to_contain_text("Not in any journey")
    expect(viewer.get_by_role("button", name="Enrol")).to_have_count(0)
    token = viewer.locator("input[name=csrf_token]").first.get_attribute("value")
    journey_id = str(visit.seed.journey(crm, "Refinance"))  # any journey of the workspace
    refused = viewer.request.post(
        f"{contact_url}/journeys", form={"journey_id": journey_id, "csrf_token": token or ""}
    )
    assert refused.status == 403
    viewer_context.close()

    visit.sign_in_as(Role.AGENT)
    page.goto(contact_url)
    page.get_by_label("Enrol in").select_option(label="First-time buyer")
    page.get_by_role("button", name="Enrol", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Enrolled in First-time buyer.")
    row = page.get_by_role("row", name="First-time buyer")
    expect(row).to_contain_text("active")
    row.get_by_role("button", name="Unenrol").click()
    expect(page.get_by_role("status")).to_contain_text("Taken out of First-time buyer.")
    page.get_by_label("Enrol in").select_option(label="First-time buyer")
    page.get_by_role("button", name="Enrol", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Enrolled in First-time buyer.")
    visit.screenshot(page)
