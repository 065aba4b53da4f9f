"""HubSpot wire behaviour over real sockets: OAuth, batch errors, merge, archive,
associations, search caps, rate limits and user-change webhooks."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import orjson
import pytest

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.hubspot import HubSpotSandbox
from crmsync.sandbox.hubspot.search import SearchCaps

from .conftest import FakeClock, Receiver

CONTACTS = "/crm/v3/objects/contacts"


def _make(client: httpx.Client, **props: str) -> dict[str, Any]:
    answer = client.post(CONTACTS, json={"properties": props})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_oauth_code_flow_refresh_and_expiry(
    hub: tuple[HubSpotSandbox, httpx.Client], clock: FakeClock
) -> None:
    sandbox, client = hub
    tokens = sandbox.tokens
    redirect = client.get(
        "/oauth/authorize",
        params={
            "client_id": tokens.client_id,
            "redirect_uri": "http://127.0.0.1:9/cb",
            "state": "s1",
        },
    )
    assert redirect.status_code == 302
    query = parse_qs(urlparse(redirect.headers["location"]).query)
    assert query["state"] == ["s1"]
    form = {
        "grant_type": "authorization_code",
        "client_id": tokens.client_id,
        "client_secret": tokens.client_secret,
        "redirect_uri": "http://127.0.0.1:9/cb",
        "code": query["code"][0],
    }
    issued = client.post("/oauth/v1/token", data=form).json()
    assert issued["expires_in"] == 1800 and issued["token_type"] == "bearer"
    bearer = {"Authorization": f"Bearer {issued['access_token']}"}
    assert client.get(CONTACTS, headers=bearer).status_code == 200
    reused = client.post("/oauth/v1/token", data=form)
    assert reused.status_code == 400 and reused.json()["status"] == "BAD_AUTH_CODE"

    clock.now += 1801
    expired = client.get(CONTACTS, headers=bearer)
    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    refreshed = client.post(
        "/oauth/v1/token",
        data={
            "grant_type": "refresh_token",
            "client_id": tokens.client_id,
            "client_secret": tokens.client_secret,
            "refresh_token": issued["refresh_token"],
        },
    ).json()
    bearer = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert client.get(CONTACTS, headers=bearer).status_code == 200


def test_missing_token_is_invalid_authentication(hub: tuple[HubSpotSandbox, httpx.Client]) -> None:
    _, client = hub
    answer = client.get(CONTACTS, headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
    assert answer.json()["category"] == "INVALID_AUTHENTICATION"


def test_batch_read_reports_missing_ids_as_207(hub: tuple[HubSpotSandbox, httpx.Client]) -> None:
    _, client = hub
    made = _make(client, email="a@example.com")
    answer = client.post(
        CONTACTS + "/batch/read",
        json={"inputs": [{"id": made["id"]}, {"id": "999999"}], "properties": ["email"]},
    )
    assert answer.status_code == 207
    body = answer.json()
    assert [r["id"] for r in body["results"]] == [made["id"]]
    assert body["numErrors"] == 1
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"] == {"ids": ["999999"]}


def test_batch_create_per_item_errors_need_trace_ids(
    hub: tuple[HubSpotSandbox, httpx.Client],
) -> None:
    sandbox, client = hub
    _make(client, email="taken@example.com")
    untraced = client.post(
        CONTACTS + "/batch/create",
        json={
            "inputs": [
                {"properties": {"email": "new@example.com"}},
                {"properties": {"email": "taken@example.com"}},
            ]
        },
    )
    assert untraced.status_code == 409
    assert sandbox.counts()["contacts"] == 1  # nothing created
    traced = client.post(
        CONTACTS + "/batch/create",
        json={
            "inputs": [
                {"properties": {"email": "new@example.com"}, "objectWriteTraceId": "t1"},
                {"properties": {"email": "taken@example.com"}, "objectWriteTraceId": "t2"},
                {"properties": {"bogus": "1"}, "objectWriteTraceId": "t3"},
            ]
        },
    )
    assert traced.status_code == 207
    body = traced.json()
    assert [r["properties"]["email"] for r in body["results"]] == ["new@example.com"]
    assert {(e["category"], e["context"]["objectWriteTraceId"][0]) for e in body["errors"]} == {
        ("CONFLICT", "t2"),
        ("VALIDATION_ERROR", "t3"),
    }


def test_archive_hides_the_record_until_archived_true(
    hub: tuple[HubSpotSandbox, httpx.Client],
) -> None:
    sandbox, client = hub
    made = _make(client, email="gone@example.com")
    assert client.delete(f"{CONTACTS}/{made['id']}").status_code == 204
    missing = client.get(f"{CONTACTS}/{made['id']}")
    assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"
    assert client.get(CONTACTS).json()["results"] == []
    archived = client.get(CONTACTS, params={"archived": "true"}).json()["results"]
    assert [(r["id"], r["archived"]) for r in archived] == [(made["id"], True)]
    assert "archivedAt" in archived[0]
    assert sandbox.counts()["contacts"] == 0


def test_merged_away_id_resolves_to_the_survivor(hub: tuple[HubSpotSandbox, httpx.Client]) -> None:
    _, client = hub
    keep = _make(client, email="keep@example.com")
    lose = _make(client, email="lose@example.com", phone="+1 555 0100")
    merged = client.post(
        CONTACTS + "/merge", json={"primaryObjectId": keep["id"], "objectIdToMerge": lose["id"]}
    )
    assert merged.status_code == 200
    via_old = client.get(
        f"{CONTACTS}/{lose['id']}", params={"properties": "email,phone,hs_merged_object_ids"}
    )
    assert via_old.json()["id"] == keep["id"]
    props = via_old.json()["properties"]
    assert props["email"] == "keep@example.com" and props["phone"] == "+1 555 0100"
    assert props["hs_merged_object_ids"] == lose["id"]


def test_list_pages_with_after_cursor(hub: tuple[HubSpotSandbox, httpx.Client]) -> None:
    _, client = hub
    assert client.get(CONTACTS, params={"after": "abc"}).json()["category"] == "VALIDATION_ERROR"
    made = [_make(client, email=f"l{i}@example.com")["id"] for i in range(5)]
    seen, after = [], None
    while True:
        page = client.get(
            CONTACTS, params={"limit": 2, **({"after": after} if after else {})}
        ).json()
        seen += [r["id"] for r in page["results"]]
        if "paging" not in page:
            break
        after = page["paging"]["next"]["after"]
    assert seen == made


def test_associations_v4_both_directions(hub: tuple[HubSpotSandbox, httpx.Client]) -> None:
    _, client = hub
    contact = _make(client, email="c@example.com")
    company = client.post("/crm/v3/objects/companies", json={"properties": {"name": "Acme"}}).json()
    put = client.put(
        f"/crm/v4/objects/contacts/{contact['id']}/associations/default/companies/{company['id']}"
    )
    assert put.status_code == 200
    assert put.json()["results"][0]["associationSpec"]["associationTypeId"] == 279
    back = client.get(f"/crm/v4/objects/companies/{company['id']}/associations/contacts").json()
    assert back["results"] == [
        {
            "toObjectId": int(contact["id"]),
            "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 280, "label": None}],
        }
    ]
    search = client.post(
        "/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "associations.company",
                            "operator": "EQ",
                            "value": company["id"],
                        }
                    ]
                }
            ]
        },
    ).json()
    assert [r["id"] for r in search["results"]] == [contact["id"]]
    client.delete(
        f"/crm/v4/objects/contacts/{contact['id']}/associations/companies/{company['id']}"
    )
    assert (
        client.get(f"/crm/v4/objects/companies/{company['id']}/associations/contacts").json()[
            "results"
        ]
        == []
    )


def test_note_needs_hs_timestamp_and_answers_iso(hub: tuple[HubSpotSandbox, httpx.Client]) -> None:
    _, client = hub
    refused = client.post("/crm/v3/objects/notes", json={"properties": {"hs_note_body": "hi"}})
    assert refused.status_code == 400 and "REQUIRED_FIELD" in refused.json()["message"]
    made = client.post(
        "/crm/v3/objects/notes",
        json={"properties": {"hs_note_body": "hi", "hs_timestamp": "1700000000000"}},
    )
    assert made.json()["properties"]["hs_timestamp"] == "2023-11-14T22:13:20.000Z"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"limit": 201}, "limit"),
        ({"limit": 200, "after": "9900"}, "10000"),
        (
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "email", "operator": "EQ", "value": "x"}] * 7}
                ]
            },
            "group",
        ),
        (
            {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "LIKE"}]}]},
            "operator",
        ),
    ],
)
def test_search_limits_are_validation_errors(
    hub: tuple[HubSpotSandbox, httpx.Client], body: dict[str, Any], fragment: str
) -> None:
    _, client = hub
    answer = client.post(CONTACTS + "/search", json=body)
    assert answer.status_code == 400
    assert answer.json()["category"] == "VALIDATION_ERROR"
    assert fragment in answer.json()["message"]


def test_wider_search_caps_are_configurable(serve: Any) -> None:
    sandbox = HubSpotSandbox(SandboxOptions(rate_profile="off"), search_caps=SearchCaps(5, 10, 25))
    server = serve(sandbox)
    headers = {"Authorization": f"Bearer {sandbox.tokens.private_token}"}
    filters = [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 7
    answer = httpx.post(
        server.url("hubspot") + CONTACTS + "/search",
        json={"filterGroups": [{"filters": filters}]},
        headers=headers,
    )
    assert answer.status_code == 200


def test_rate_limit_headers_and_429_body(serve: Any) -> None:
    sandbox = HubSpotSandbox(SandboxOptions(rate_profile="free"))
    server = serve(sandbox)
    headers = {"Authorization": f"Bearer {sandbox.tokens.private_token}"}
    with httpx.Client(base_url=server.url("hubspot"), headers=headers) as client:
        first = client.get(CONTACTS)
        assert first.headers["x-hubspot-ratelimit-max"] == "100"
        assert first.headers["x-hubspot-ratelimit-remaining"] == "99"
        assert first.headers["x-hubspot-ratelimit-interval-milliseconds"] == "10000"
        assert first.headers["x-hubspot-ratelimit-daily"] == "250000"
        statuses = [client.get(CONTACTS).status_code for _ in range(100)]
        assert statuses.count(429) == 1 and statuses[-1] == 429
        last = client.get(CONTACTS)
        body = last.json()
        assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert int(last.headers["retry-after"]) >= 1
        search = client.post(CONTACTS + "/search", json={})
        assert search.status_code == 200
        assert "x-hubspot-ratelimit-max" not in search.headers  # search has its own limit


def test_user_change_fires_property_change_webhook(
    hub: tuple[HubSpotSandbox, httpx.Client], receiver: Receiver
) -> None:
    _, client = hub
    made = _make(client, email="u@example.com", firstname="Before")
    client.post(
        "/_sandbox/webhooks", json={"url": receiver.url, "events": ["contact.propertyChange"]}
    )
    changed = client.post(
        "/_sandbox/change",
        json={"object_type": "contacts", "record_id": made["id"], "fields": {"firstname": "After"}},
    )
    assert changed.json()["properties"]["firstname"] == "After"
    _, body = receiver.wait(1)[0]
    (event,) = orjson.loads(body)
    assert event["subscriptionType"] == "contact.propertyChange"
    assert (event["objectId"], event["propertyName"], event["propertyValue"]) == (
        int(made["id"]),
        "firstname",
        "After",
    )
    assert event["changeSource"] == "CRM_UI"


def test_read_with_history_and_associations(
    hub: tuple[HubSpotSandbox, httpx.Client], clock: FakeClock
) -> None:
    _, client = hub
    made = _make(client, email="h@example.com", firstname="One")
    clock.now += 60
    client.patch(f"{CONTACTS}/{made['id']}", json={"properties": {"firstname": "Two"}})
    deal = client.post(
        "/crm/v3/objects/deals",
        json={
            "properties": {"dealname": "Big"},
            "associations": [
                {
                    "to": {"id": made["id"]},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}],
                }
            ],
        },
    ).json()
    body = client.get(
        f"{CONTACTS}/{made['id']}",
        params={"propertiesWithHistory": "firstname", "associations": "deals"},
    ).json()
    history = body["propertiesWithHistory"]["firstname"]
    assert [h["value"] for h in history] == ["Two", "One"]
    assert history[0]["timestamp"] > history[1]["timestamp"]
    assert body["associations"]["deals"]["results"] == [
        {"id": deal["id"], "type": "contact_to_deal"}
    ]


def test_search_index_lag_hides_fresh_changes(serve: Any, clock: FakeClock) -> None:
    sandbox = HubSpotSandbox(
        SandboxOptions(rate_profile="off"), clock=clock, search_caps=SearchCaps(lag_ms=2000)
    )
    server = serve(sandbox)
    headers = {"Authorization": f"Bearer {sandbox.tokens.private_token}"}
    with httpx.Client(base_url=server.url("hubspot"), headers=headers) as client:
        _make(client, email="fresh@example.com")
        assert client.post(CONTACTS + "/search", json={}).json()["total"] == 0
        assert len(client.get(CONTACTS).json()["results"]) == 1  # reads are immediate
        clock.now += 2
        assert client.post(CONTACTS + "/search", json={}).json()["total"] == 1


def test_upsert_validates_new_keys_and_refuses_duplicates(
    hub: tuple[HubSpotSandbox, httpx.Client],
) -> None:
    sandbox, client = hub

    def upsert(*keys: str) -> httpx.Response:
        inputs = [{"id": k, "idProperty": "email", "properties": {"firstname": "X"}} for k in keys]
        return client.post(CONTACTS + "/batch/upsert", json={"inputs": inputs})

    bad = upsert("ok@example.com", "not-an-email")
    assert bad.status_code == 400 and "INVALID_EMAIL" in bad.json()["message"]
    twice = upsert("a@example.com", "A@example.com")
    assert twice.status_code == 400 and "Duplicate IDs" in twice.json()["message"]
    by_name = client.post(
        CONTACTS + "/batch/upsert",
        json={"inputs": [{"id": "x", "idProperty": "firstname", "properties": {}}]},
    )
    assert by_name.status_code == 400  # firstname is not a unique property
    assert sandbox.counts()["contacts"] == 0
    assert upsert("ok@example.com").json()["results"][0]["properties"]["email"] == "ok@example.com"


def test_gdpr_delete_is_permanent(hub: tuple[HubSpotSandbox, httpx.Client]) -> None:
    _, client = hub
    made = _make(client, email="forget@example.com")
    gone = client.post(
        CONTACTS + "/gdpr-delete", json={"objectId": "forget@example.com", "idProperty": "email"}
    )
    assert gone.status_code == 204
    assert client.get(f"{CONTACTS}/{made['id']}", params={"archived": "true"}).status_code == 404
    assert client.get(CONTACTS, params={"archived": "true"}).json()["results"] == []
    assert _make(client, email="forget@example.com")["id"] != made["id"]


def test_association_batch_create_read_and_bad_input(
    hub: tuple[HubSpotSandbox, httpx.Client],
) -> None:
    _, client = hub
    contact = _make(client, email="b@example.com")
    deal = client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "D"}}).json()
    base = "/crm/v4/associations/contacts/deals/batch"
    types = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 4}]
    made = client.post(
        base + "/create",
        json={
            "inputs": [{"from": {"id": contact["id"]}, "to": {"id": deal["id"]}, "types": types}]
        },
    )
    assert made.status_code == 201
    assert made.json()["results"][0]["toObjectId"] == int(deal["id"])
    read = client.post(base + "/read", json={"inputs": [{"id": contact["id"]}]}).json()
    assert read["results"][0]["to"][0]["toObjectId"] == int(deal["id"])
    bad = client.post(base + "/create", json={"inputs": [{"from": {"id": "1"}}]})
    assert bad.status_code == 400 and bad.json()["category"] == "VALIDATION_ERROR"
    assert client.post(base + "/explode", json={"inputs": []}).status_code == 404
