"""An admin reads sync health (volume and errors over time, lag and errors per object type,
the API quota) and gives one object type a schedule of its own, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from crmsync.auth.permissions import Role
from tests.web.browser.conftest import Visit


def test_sync_health_and_a_schedule_per_object_type(visit: Visit) -> None:
    page = visit.page
    crm = visit.seed.integration()
    visit.seed.sync_figures(crm)
    visit.sign_in_as(Role.ADMIN)
    page.goto(visit.url("/ui/sync"))
    chart = page.get_by_role("img", name="Records processed and failed per day")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("aria-label", re.compile(r": 40 processed, 3 failed"))
    quota = page.get_by_role("img", name="Total Expert daily quota: 92% used")
    expect(quota).to_be_visible()
    row = page.get_by_role("row").filter(has_text="contacts").filter(has_text="3 min")
    expect(row.first).to_be_visible()  # queued for three minutes: the lag
    page.get_by_role("link", name="Total Expert").first.click()
    page.get_by_label("Schedule of contacts").fill("15m")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved")
    expect(page.get_by_label("Schedule of contacts")).to_have_value("15m")
    visit.screenshot(page)
