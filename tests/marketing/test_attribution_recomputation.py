"""A report (the service, the API and so the page) equals the plain recomputation on
generated data: every model, conversion kind and grouping, with and without a period,
after new touchpoints and conversions arrive, after a lead is deleted and after a contact
merge. Both databases."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.dedup.merge import merge
from crmsync.marketing.attribution import service
from crmsync.marketing.attribution.conversions import Kind
from crmsync.marketing.attribution.credit import Model
from crmsync.marketing.attribution.paths import GroupBy
from crmsync.marketing.attribution.report import DIRECT, Report, Row
from crmsync.records.service import delete_record
from crmsync.store.engine import session_scope
from crmsync.store.models import Lead
from tests.conftest import Tenant
from tests.marketing.attribution_world import (
    NOW,
    add_people,
    assert_same,
    reference,
    some_contacts,
)

PERIOD = {
    "start": (NOW - timedelta(days=40)).replace(hour=0, minute=0, second=0),
    "end": (NOW - timedelta(days=3)).replace(hour=0, minute=0, second=0),
}


def _every_report(session: Session, tenant: Tenant, client: TestClient, when: str) -> int:
    """Compare every combination; returns how many conversions were compared."""
    seen = 0
    for kind in Kind:
        for group_by in GroupBy:
            for model in Model:
                options = service.Options(model=model, kind=kind, group_by=group_by)
                expected = reference(session, tenant.id, options)
                what = (when, kind, group_by, model)
                assert_same(service.report(session, tenant.id, options), expected, what)
                seen += expected.total_conversions
            ranged = service.Options(
                model=Model.TIME_DECAY, kind=kind, group_by=group_by, half_life_days=3.0,
                lookback_days=30.0, **PERIOD,
            )  # fmt: skip
            got = service.report(session, tenant.id, ranged)
            assert_same(got, reference(session, tenant.id, ranged), (when, "period", kind))
            markov = replace(ranged, model=Model.MARKOV)
            got = service.report(session, tenant.id, markov)
            assert_same(got, reference(session, tenant.id, markov), (when, "period", kind))
    api = client.get(
        "/api/v1/attribution",
        params={"model": "position_based", "conversion": "deal_won", "group_by": "campaign"},
        headers=tenant.headers(Role.VIEWER),
    ).json()
    options = service.Options(
        model=Model.POSITION_BASED, kind=Kind.DEAL_WON, group_by=GroupBy.CAMPAIGN
    )
    answered = Report(
        Model.POSITION_BASED,
        [Row(i["key"], i["conversions"], i["value"]) for i in api["items"]],
        api["total_conversions"],
        api["total_value"],
    )
    assert_same(answered, reference(session, tenant.id, options), (when, "api"))
    return seen


def test_reports_equal_the_recomputation_as_data_arrives(
    sessions: sessionmaker[Session], tenant: Tenant, client: TestClient
) -> None:
    rng = random.Random(24)
    with session_scope(sessions) as session:
        add_people(session, tenant.id, rng, 60)
    with sessions() as session:
        first = _every_report(session, tenant, client, "generated")
        linear = service.report(session, tenant.id, service.Options(group_by=GroupBy.CAMPAIGN))
    assert first > 0
    assert {r.key for r in linear.rows} >= {DIRECT, "Rates"}  # touched and untouched ones
    with session_scope(sessions) as session:  # new touchpoints and conversions arrive
        add_people(session, tenant.id, rng, 25)
    with session_scope(sessions) as session:  # a lead deleted
        lead = session.query(Lead).filter_by(workspace_id=tenant.id, deleted_at=None).first()
        assert lead is not None
        delete_record(session, tenant.id, "leads", lead.id, "api")
    with sessions() as session:
        assert _every_report(session, tenant, client, "more data") > first
    with session_scope(sessions) as session:  # two contacts merged: leads and deals move
        survivor, *merged = some_contacts(session, tenant.id, 3)
        merge(session, tenant.id, survivor.id, [m.id for m in merged], "prefer_new")
    with sessions() as session:
        _every_report(session, tenant, client, "after a merge")


def test_leads_converted_are_attributed(
    sessions: sessionmaker[Session], tenant: Tenant, client: TestClient
) -> None:
    """Converted leads (their status set to CONVERTED) are conversions of their own kind."""
    rng = random.Random(7)
    with session_scope(sessions) as session:
        add_people(session, tenant.id, rng, 30)
    with sessions() as session:
        options = service.Options(kind=Kind.LEAD_CONVERTED, group_by=GroupBy.CHANNEL)
        got = service.report(session, tenant.id, options)
        assert got.total_conversions > 0
        assert_same(got, reference(session, tenant.id, options), "converted")
    answer = client.get(
        "/api/v1/attribution", params={"conversion": "lead_converted"}, headers=tenant.headers()
    )
    assert answer.status_code == 200
    assert answer.json()["total_conversions"] == got.total_conversions
