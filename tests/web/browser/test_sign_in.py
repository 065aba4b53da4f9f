"""Signing in and the CSRF refusal, in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from crmsync.auth.permissions import Role
from tests.web.browser.conftest import Served, Team
from tests.web.conftest import PASSWORD


def test_sign_in(page: Page, served: Served, team: Team, screenshot: Callable[[Any], Path]) -> None:
    page.goto(f"{served.url}/ui/contacts")
    expect(page).to_have_url(f"{served.url}/ui/sign-in?next=/ui/contacts")
    page.get_by_label("E-mail").fill(team.emails[Role.AGENT])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{served.url}/ui/contacts")
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).not_to_contain_text("People")
    screenshot(page)


def test_form_without_csrf_token_is_refused(
    page: Page, sign_in_as: Callable[..., Page], screenshot: Callable[[Any], Path]
) -> None:
    sign_in_as(Role.ADMIN)
    page.goto(page.url.replace("/ui/", "/ui/people"))
    # a forged form: the same fields, no token (as another site's page would post)
    page.evaluate(
        "document.querySelectorAll('form input[name=csrf_token]').forEach(e => e.remove())"
    )
    page.get_by_label("Key name").fill("forged")
    page.get_by_role("button", name="Create a key").click()
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("security token")
    page.goto(page.url.replace("/ui/people/keys", "/ui/people"))
    expect(page.get_by_role("main")).not_to_contain_text("forged")
    screenshot(page)
