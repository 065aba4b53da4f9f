"""The attribution page shows what the plain recomputation gives, on generated data."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.marketing.attribution import service
from crmsync.marketing.attribution.conversions import Kind
from crmsync.marketing.attribution.credit import Model
from crmsync.marketing.attribution.paths import GroupBy
from crmsync.store.engine import session_scope
from crmsync.workspaces import create_workspace
from tests.conftest import TestClient
from tests.marketing.attribution_world import add_people, reference
from tests.web.conftest import People

CELLS = re.compile(
    r"<tr><td>([^<]+)</td><td class=\"num\">([\d.,]+)</td><td class=\"num\">([\d.,]+)</td>"
)


def test_the_page_shows_the_recomputed_figures(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        add_people(session, people.workspace_id, random.Random(5), 40)
        other = create_workspace(session, "another attribution workspace")
        add_people(session, other.id, random.Random(6), 10)  # not counted here
    viewer = signed_in(Role.VIEWER)
    for params, options in (
        ({}, service.Options(group_by=GroupBy.CAMPAIGN)),
        (
            {"model": "markov", "conversion": "deal_won", "group_by": "channel"},
            service.Options(model=Model.MARKOV, kind=Kind.DEAL_WON, group_by=GroupBy.CHANNEL),
        ),
    ):
        with sessions() as session:
            expected = reference(session, people.workspace_id, options)
        shown = viewer.get("/ui/attribution", params=params)
        assert shown.status_code == 200
        assert f"<p>{expected.total_conversions} conversions" in shown.text
        rows = {key: (n, value) for key, n, value in CELLS.findall(shown.text)}
        assert rows == {
            r.key: (f"{r.conversions:,.2f}", f"{r.value:,.2f}") for r in expected.rows
        }, params
