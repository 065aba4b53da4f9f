"""Every page answers for the roles that may see it, in the layout."""

from __future__ import annotations

from collections.abc import Callable

from crmsync.auth.permissions import Role
from tests.conftest import TestClient

PAGES = [
    "/ui/",
    "/ui/contacts",
    "/ui/journeys",
    "/ui/imports",
    "/ui/integrations",
    "/ui/integrations/new?provider_name=hubspot",
    "/ui/sync",
    "/ui/sync/dead-letters",
    "/ui/sync/conflicts",
    "/ui/duplicates",
    "/ui/automation",
    "/ui/people",
]


def test_admin_sees_every_page(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.ADMIN)
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:2000])
        assert "<nav" in answer.text and "Sign out" in answer.text
