"""CRM campaigns linked to crmsync campaigns, over HTTP against the HubSpot and Salesforce
sandboxes: read, linked by name once however often read, named by touchpoints and by a
lead's attribution, and linked by hand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from crmsync.auth.permissions import Role
from crmsync.marketing.attribution import crm_campaigns
from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.salesforce import Sandbox as SalesforceSandbox
from crmsync.sandbox.server import SandboxServer
from tests.conftest import Tenant, create_test_app


@pytest.fixture
def crms() -> Iterator[tuple[HubSpotSandbox, SalesforceSandbox, SandboxServer]]:
    hubspot = HubSpotSandbox(SandboxOptions(rate_profile="off"))
    salesforce = SalesforceSandbox(SandboxOptions(rate_profile="off"))
    server = SandboxServer([hubspot, salesforce]).start()
    yield hubspot, salesforce, server
    server.stop()


@pytest.fixture(scope="module")
def api(database_url: str, engine: Engine) -> Iterator[TestClient]:
    app: FastAPI = create_test_app(database_url, engine, sandbox_mode=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _integration(api: TestClient, tenant: Tenant, provider: str, url: str, secret: dict) -> str:
    made = api.post(
        "/api/v1/integrations",
        json={"provider": provider, "name": provider, "credentials": secret, "base_url": url},
        headers=tenant.headers(),
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _hubspot_campaign(hubspot: HubSpotSandbox, url: str, properties: dict[str, Any]) -> str:
    answer = httpx.post(
        f"{url}/marketing/v3/campaigns",
        json={"properties": properties},
        headers={"Authorization": f"Bearer {hubspot.tokens.private_token}"},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_crm_campaigns_are_linked_once_and_named_by_touchpoints_and_attribution(
    api: TestClient,
    tenant: Tenant,
    crms: tuple[HubSpotSandbox, SalesforceSandbox, SandboxServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(crm_campaigns, "PAGE", 1)  # every HubSpot page is read
    hubspot, salesforce, server = crms
    hs_url, sf_url = server.url("hubspot"), server.url("salesforce")
    h = tenant.headers()
    spring_hs = _hubspot_campaign(
        hubspot,
        hs_url,
        {"hs_name": "Spring Open House", "hs_start_date": "2026-03-01",
         "hs_end_date": "2026-04-30", "hs_currency_code": "USD"},
    )  # fmt: skip
    _hubspot_campaign(hubspot, hs_url, {"hs_name": "Webinar Q2"})
    spring_sf = salesforce.user_change(
        "Campaign", None, {"Name": "Spring Open House", "Type": "Email"}
    )["Id"]
    salesforce.user_change("Campaign", None, {"Name": "Direct mail", "Type": "Direct Mail"})
    mine = api.post(
        "/api/v1/campaigns", json={"name": "Spring Open House", "budget": "500"}, headers=h
    )
    assert mine.status_code == 201 and mine.json()["crm_campaigns"] == []
    hs = _integration(api, tenant, "hubspot", hs_url,
                      {"access_token": hubspot.tokens.private_token})  # fmt: skip
    sf = _integration(api, tenant, "salesforce", sf_url,
                      {"access_token": salesforce.org.tokens.default_token,
                       "instance_url": sf_url})  # fmt: skip
    first = api.post("/api/v1/campaigns/crm/refresh", headers=h)
    assert first.status_code == 200, first.text
    assert first.json() == {"linked": {hs: 2, sf: 2}, "created": 2, "errors": {}}
    again = api.post("/api/v1/campaigns/crm/refresh", json={"integration_id": sf}, headers=h)
    assert again.json() == {"linked": {sf: 2}, "created": 0, "errors": {}}
    listed = {c["name"]: c for c in api.get("/api/v1/campaigns", headers=h).json()["items"]}
    assert sorted(listed) == ["Direct mail", "Spring Open House", "Webinar Q2"]
    spring = listed["Spring Open House"]
    assert float(spring["budget"]) == 500  # what a user set is kept
    assert (spring["starts_on"], spring["ends_on"], spring["currency"]) == (
        "2026-03-01", "2026-04-30", "USD"
    )  # fmt: skip
    assert sorted((c["provider"], c["remote_id"]) for c in spring["crm_campaigns"]) == [
        ("hubspot", spring_hs), ("salesforce", spring_sf)
    ]  # fmt: skip
    assert listed["Direct mail"]["channel"] == "Direct Mail"

    contact = api.post("/api/v1/contacts", json={"email": "sp@x.com"}, headers=h).json()
    touches = api.post(
        "/api/v1/touchpoints",
        json={"items": [
            {"contact_id": contact["id"], "channel": "email", "crm_campaign_id": spring_sf},
            {"contact_id": contact["id"], "channel": "email", "crm_campaign_id": "701nope"},
        ]},
        headers=h,
    ).json()["results"]  # fmt: skip
    assert [t["status"] for t in touches] == ["created", "error"]
    assert "no campaign is linked to the CRM campaign '701nope'" in touches[1]["error"]
    stored = api.get("/api/v1/touchpoints", params={"contact_id": contact["id"]}, headers=h)
    assert [t["campaign_id"] for t in stored.json()["items"]] == [spring["id"]]
    lead = api.post(
        "/api/v1/leads", json={"last_name": "Sp", "contact_id": contact["id"]}, headers=h
    ).json()
    credit = api.get(f"/api/v1/attribution/leads/{lead['id']}", headers=h).json()
    assert credit["attributed_campaign"] == "Spring Open House"
    assert sorted(c["remote_id"] for c in credit["attributed_campaign_crm"]) == sorted(
        [spring_hs, spring_sf]
    )
    performance = api.get("/api/v1/campaigns/performance", headers=h).json()["items"]
    assert {p["name"]: len(p["crm_campaigns"]) for p in performance} == {
        "Direct mail": 1, "Spring Open House": 2, "Webinar Q2": 1
    }  # fmt: skip


def test_a_crm_campaign_is_linked_by_hand_within_the_workspace(
    api: TestClient,
    make_tenant: Any,
    crms: tuple[HubSpotSandbox, SalesforceSandbox, SandboxServer],
) -> None:
    hubspot, _sf, server = crms
    tenant, other = make_tenant(), make_tenant()
    secret = {"access_token": hubspot.tokens.private_token}
    hs = _integration(api, tenant, "hubspot", server.url("hubspot"), secret)
    theirs = _integration(api, other, "hubspot", server.url("hubspot"), secret)
    campaign = api.post("/api/v1/campaigns", json={"name": "Fall"}, headers=tenant.headers())
    path = f"/api/v1/campaigns/{campaign.json()['id']}/crm-links"
    linked = api.put(
        path, json={"integration_id": hs, "remote_id": "abc", "name": "Fall (HS)"},
        headers=tenant.headers(),
    )  # fmt: skip
    assert linked.status_code == 200, linked.text
    assert [(c["remote_id"], c["name"]) for c in linked.json()["crm_campaigns"]] == [
        ("abc", "Fall (HS)")
    ]
    again = api.put(path, json={"integration_id": hs, "remote_id": "abc"}, headers=tenant.headers())
    assert len(again.json()["crm_campaigns"]) == 1  # one link per CRM campaign
    assert (
        api.put(
            path, json={"integration_id": theirs, "remote_id": "x"}, headers=tenant.headers()
        ).status_code
        == 404
    )
    bad = api.put(path, json={"integration_id": hs, "remote_id": ""}, headers=tenant.headers())
    assert bad.status_code == 422 and "remote_id" in bad.text
    assert (
        api.put(
            path,
            json={"integration_id": hs, "remote_id": "abc"},
            headers=tenant.headers(Role.VIEWER),
        ).status_code
        == 403
    )
