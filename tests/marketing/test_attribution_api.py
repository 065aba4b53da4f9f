"""Touchpoints, campaigns and attribution through the HTTP API, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.auth.permissions import Role
from crmsync.store.models import ChangeLog
from tests.conftest import Tenant

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


def _post(client: TestClient, tenant: Tenant, path: str, body: Any, role: Role = Role.ADMIN) -> Any:
    answer = client.post(f"/api/v1{path}", json=body, headers=tenant.headers(role))
    assert answer.status_code in (200, 201, 202), answer.text
    return answer.json()


def _get(client: TestClient, tenant: Tenant, path: str, **params: Any) -> Any:
    answer = client.get(f"/api/v1{path}", params=params, headers=tenant.headers(Role.VIEWER))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def _touch(client: TestClient, tenant: Tenant, event: str, at: str, **data: Any) -> Any:
    body = {"type": event, "occurred_at": at, "data": data}
    return _post(client, tenant, "/events", body, Role.AGENT)


@pytest.fixture
def world(client: TestClient, tenant: Tenant) -> dict[str, str]:
    """Two people: Ana touched by a post then an ad (10 and 6 days ago), who became a lead
    and won a deal of 1,000 today; Ben touched by e-mail only, who never converted."""
    ana = _post(client, tenant, "/contacts", {"email": "ana@x.com", "external_ref": "u-ana"})
    ben = _post(client, tenant, "/contacts", {"email": "ben@x.com"})
    _touch(client, tenant, "post.engaged", _ago(10), contact_ref="u-ana",
           platform="linkedin", campaign="Spring homes", post_id="p-1")  # fmt: skip
    _touch(client, tenant, "ad.clicked", _ago(6), contact_id=ana["id"],
           platform="google", campaign="Rates", cost="12.50")  # fmt: skip
    _touch(client, tenant, "message.sent", _ago(8), contact_id=ben["id"],
           channel="email")  # fmt: skip
    lead = _post(client, tenant, "/leads", {"contact_id": ana["id"], "status": "NEW"})
    deal = _post(
        client,
        tenant,
        "/deals",
        {"name": "House", "contact_id": ana["id"], "stage": "closedwon", "amount": "1000"},
    )
    return {"ana": ana["id"], "ben": ben["id"], "lead": lead["id"], "deal": deal["id"]}


def test_events_become_touchpoints_once(
    client: TestClient, tenant: Tenant, world: dict[str, str]
) -> None:
    body = {"type": "page.visited", "data": {"contact_id": world["ana"], "platform": "site"}}
    headers = {**tenant.headers(Role.AGENT), "Idempotency-Key": "visit-1"}
    for _ in range(3):
        assert client.post("/api/v1/events", json=body, headers=headers).status_code == 202
    touches = _get(client, tenant, "/touchpoints", contact_id=world["ana"])["items"]
    assert [t["channel"] for t in touches] == ["social", "paid", "web"]
    assert touches[0]["content_id"] == "p-1" and touches[1]["cost"] == 12.5
    _touch(client, tenant, "ad.clicked", _ago(1), platform="nobody")  # no person: no touch
    again = _get(client, tenant, "/touchpoints", contact_id=world["ana"])["items"]
    assert len(again) == 3


def test_each_model_credits_the_won_deal(
    client: TestClient, tenant: Tenant, world: dict[str, str]
) -> None:
    expected = {
        "first_touch": {"social": 1000.0},
        "last_touch": {"paid": 1000.0},
        "linear": {"social": 500.0, "paid": 500.0},
        "position_based": {"social": 500.0, "paid": 500.0},
    }
    for model, values in expected.items():
        got = _get(client, tenant, "/attribution", model=model, conversion="deal_won")
        assert got["total_conversions"] == 1 and got["total_value"] == 1000.0
        assert {r["key"]: r["value"] for r in got["items"]} == pytest.approx(values), model
    decay = _get(client, tenant, "/attribution", model="time_decay", conversion="deal_won",
                 half_life_days=4)  # fmt: skip
    by = {r["key"]: r["value"] for r in decay["items"]}
    assert by["paid"] > by["social"] and sum(by.values()) == pytest.approx(1000.0)
    markov = _get(client, tenant, "/attribution", model="markov", conversion="deal_won")
    assert sum(r["conversions"] for r in markov["items"]) == pytest.approx(1.0)
    assert {r["key"] for r in markov["items"]} <= {"social", "paid"}
    by_campaign = _get(client, tenant, "/attribution", model="first_touch",
                       conversion="deal_won", group_by="campaign")  # fmt: skip
    assert [r["key"] for r in by_campaign["items"]] == ["Spring homes"]
    outside = _get(client, tenant, "/attribution", conversion="deal_won",
                   **{"from": "2030-01-01T00:00:00Z"})  # fmt: skip
    assert outside["total_conversions"] == 0 and outside["items"] == []


def test_a_lead_and_its_write_back(
    client: TestClient, tenant: Tenant, world: dict[str, str], db: Session
) -> None:
    one = _get(client, tenant, f"/attribution/leads/{world['lead']}", model="last_touch")
    assert [t["weight"] for t in one["touches"]] == [0.0, 1.0]
    assert (one["first_touch_source"], one["last_touch_source"]) == ("linkedin", "google")
    assert one["attributed_campaign"] == "Rates"
    integration = _post(
        client,
        tenant,
        "/integrations",
        {"provider": "hubspot", "name": "Main", "credentials": {"access_token": TOKEN}},
    )
    path = f"/integrations/{integration['id']}/leads/attribution"
    body = {"lead_ids": [world["lead"], world["deal"]], "model": "first_touch"}
    results = _post(client, tenant, path, body, Role.AGENT)["results"]
    assert [r["status"] for r in results] == ["updated", "not_found"]
    lead = _get(client, tenant, f"/leads/{world['lead']}")
    assert lead["custom_fields"]["attributed_campaign"] == "Spring homes"
    assert lead["custom_fields"]["first_touch_source"] == "linkedin"
    again = _post(client, tenant, path, body, Role.AGENT)["results"]
    assert again[0]["status"] == "unchanged"
    viewer = client.post(f"/api/v1{path}", json=body, headers=tenant.headers(Role.VIEWER))
    assert viewer.status_code == 403
    db.expire_all()
    sources = db.scalars(
        select(ChangeLog.source)
        .where(ChangeLog.record_id == uuid.UUID(world["lead"]))
        .order_by(ChangeLog.id)  # PostgreSQL returns rows in no set order without it
    ).all()
    assert sources == ["api", "attribution"]  # created, then attributed once


def test_campaign_performance(client: TestClient, tenant: Tenant, world: dict[str, str]) -> None:
    rates = next(c for c in _get(client, tenant, "/campaigns")["items"] if c["name"] == "Rates")
    patched = client.patch(
        f"/api/v1/campaigns/{rates['id']}", json={"budget": "100"}, headers=tenant.headers()
    )
    assert patched.status_code == 200, patched.text
    found = _get(client, tenant, "/campaigns/performance", model="linear")["items"]
    by = {c["name"]: c for c in found}
    assert by["Rates"]["conversions"] == pytest.approx(0.5)
    assert by["Rates"]["revenue"] == pytest.approx(500.0)
    assert by["Rates"]["cost"] == 100.0 and by["Rates"]["cost_per_conversion"] == 200.0
    assert by["Spring homes"]["touchpoints"] == 1 and by["Spring homes"]["cost"] is None
    clash = client.post("/api/v1/campaigns", json={"name": "Rates"}, headers=tenant.headers())
    assert clash.status_code == 409


def test_another_workspace_sees_nothing(
    client: TestClient, world: dict[str, str], make_tenant: Callable[[], Tenant]
) -> None:
    other = make_tenant()
    h = other.headers()
    assert client.get(f"/api/v1/attribution/leads/{world['lead']}", headers=h).status_code == 404
    assert client.get("/api/v1/campaigns", headers=h).json()["items"] == []
    listed = client.get("/api/v1/touchpoints", params={"contact_id": world["ana"]}, headers=h)
    assert listed.json()["items"] == []
    body = {"items": [{"contact_id": world["ana"], "channel": "web"}]}
    answer = client.post("/api/v1/touchpoints", json=body, headers=h).json()
    assert answer["results"][0]["status"] == "error"
    assert client.get("/api/v1/attribution", headers={}).status_code == 401


def test_bad_queries_say_what_to_fix(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    cases = [
        {"model": "magic"},
        {"group_by": "colour"},
        {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"half_life_days": "0"},
    ]
    for params in cases:
        answer = client.get("/api/v1/attribution", params=params, headers=h)
        assert answer.status_code == 422, params
        assert answer.json()["error"]["message"]
