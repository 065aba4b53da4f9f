"""HubSpot batch upsert over real sockets: what the fast path must keep.

Batch upsert carries the bulk of sync traffic, so it has its own tight loop
(`crmsync.sandbox.hubspot.upsert`). These tests pin the behaviour that loop shares
with the single-record endpoints: change detection (history, `updatedAt`, one
`propertyChange` event per changed value), unique-value indexes, values that need
checking or converting, and property definitions changing between calls.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.hubspot import HubSpotSandbox
from crmsync.sandbox.hubspot.crm import Event

from .conftest import FakeClock, Receiver

UPSERT = "/crm/v3/objects/contacts/batch/upsert"
CONTACTS = "/crm/v3/objects/contacts"


@pytest.fixture
def events(hub: tuple[HubSpotSandbox, httpx.Client]) -> list[Event]:
    """Change events the account emits (as webhooks would see them)."""
    sandbox, _ = hub
    seen: list[Event] = []
    sandbox.crm.emit = seen.append
    sandbox.crm.listening = True
    return seen


def _upsert(
    client: httpx.Client, rows: dict[str, dict[str, Any]], id_property: str = "email"
) -> httpx.Response:
    inputs = [{"id": k, "idProperty": id_property, "properties": v} for k, v in rows.items()]
    return client.post(UPSERT, json={"inputs": inputs})


def _ok(answer: httpx.Response) -> list[dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "COMPLETE" and "errors" not in body
    return list(body["results"])


def test_creates_then_updates_only_what_changed(
    hub: tuple[HubSpotSandbox, httpx.Client], clock: FakeClock, events: list[Event]
) -> None:
    _, client = hub
    made = _ok(
        _upsert(
            client,
            {
                "a@example.com": {"firstname": "Ann", "lastname": "One"},
                "b@example.com": {"firstname": "Bob"},
            },
        )
    )
    assert [r["new"] for r in made] == [True, True]
    first = made[0]
    assert first["properties"] == {
        "email": "a@example.com",
        "firstname": "Ann",
        "lastname": "One",
        "hs_object_id": first["id"],
        "createdate": "2023-11-14T22:13:20.000Z",
        "lastmodifieddate": "2023-11-14T22:13:20.000Z",
    }
    assert first["createdAt"] == first["updatedAt"] == "2023-11-14T22:13:20.000Z"
    assert first["archived"] is False
    assert {e.subscription_type for e in events} == {"contact.creation", "contact.propertyChange"}

    events.clear()
    clock.now += 60
    again = _ok(
        _upsert(
            client,
            {
                "A@EXAMPLE.COM": {"firstname": "Ann", "lastname": "Two"},  # keys ignore case
                "b@example.com": {"firstname": "Bob"},  # nothing changes
                "c@example.com": {"firstname": "Cy"},
            },
        )
    )
    assert [(r["id"], r["new"]) for r in again[:2]] == [
        (made[0]["id"], False),
        (made[1]["id"], False),
    ]
    assert again[2]["new"] is True
    ann, bob = again[0], again[1]
    assert ann["properties"]["lastname"] == "Two" and ann["properties"]["firstname"] == "Ann"
    assert ann["properties"]["email"] == "a@example.com"
    assert ann["updatedAt"] == ann["properties"]["lastmodifieddate"] == "2023-11-14T22:14:20.000Z"
    assert ann["createdAt"] == "2023-11-14T22:13:20.000Z"
    assert bob["updatedAt"] == made[1]["updatedAt"]  # an unchanged record keeps its stamp
    changes = [
        (e.object_id, e.property_name, e.property_value)
        for e in events
        if e.subscription_type == "contact.propertyChange" and e.object_id != again[2]["id"]
    ]
    assert changes == [(ann["id"], "lastname", "Two")]

    history = client.get(
        f"{CONTACTS}/{ann['id']}", params={"propertiesWithHistory": "lastname,firstname"}
    ).json()["propertiesWithHistory"]
    assert [h["value"] for h in history["lastname"]] == ["Two", "One"]
    assert [h["value"] for h in history["firstname"]] == ["Ann"]


def test_values_are_checked_converted_and_cleared(
    hub: tuple[HubSpotSandbox, httpx.Client],
) -> None:
    sandbox, client = hub
    made = _ok(
        _upsert(
            client,
            {
                "n@example.com": {
                    "firstname": 42,
                    "lastname": True,
                    "lifecyclestage": "lead",
                    "company": "",
                }
            },
        )
    )[0]["properties"]
    assert (made["firstname"], made["lastname"], made["lifecyclestage"]) == ("42", "true", "lead")
    assert made["company"] is None  # cleared values answer null

    bad_option = _upsert(client, {"n@example.com": {"lifecyclestage": "nope"}})
    assert bad_option.status_code == 400 and "INVALID_OPTION" in bad_option.json()["message"]
    unknown = _upsert(
        client,
        {"n@example.com": {"firstname": "Ok"}, "m@example.com": {"no_such": "x"}},
    )
    assert unknown.status_code == 400
    assert unknown.json()["category"] == "VALIDATION_ERROR"
    assert "PROPERTY_DOESNT_EXIST" in unknown.json()["message"]
    read_only = _upsert(client, {"n@example.com": {"hs_object_id": "1"}})
    assert read_only.status_code == 400 and "READ_ONLY_VALUE" in read_only.json()["message"]
    # a refused batch writes nothing, not even its valid inputs
    assert sandbox.counts()["contacts"] == 1
    stored = client.get(f"{CONTACTS}/n@example.com", params={"idProperty": "email"}).json()
    assert stored["properties"]["firstname"] == "42"

    cleared = _ok(_upsert(client, {"n@example.com": {"firstname": ""}}))[0]["properties"]
    assert cleared["firstname"] is None and cleared["lastname"] == "true"


def test_changing_the_email_moves_the_unique_index(
    hub: tuple[HubSpotSandbox, httpx.Client],
) -> None:
    _, client = hub
    made = _ok(_upsert(client, {"old@example.com": {"firstname": "Olga"}}))[0]
    moved = _ok(_upsert(client, {"old@example.com": {"email": "new@example.com"}}))[0]
    assert moved["id"] == made["id"] and moved["properties"]["email"] == "new@example.com"
    again = _ok(_upsert(client, {"new@example.com": {"lastname": "N"}}))[0]
    assert (again["id"], again["new"]) == (made["id"], False)
    fresh = _ok(_upsert(client, {"old@example.com": {"lastname": "O"}}))[0]
    assert fresh["new"] is True and fresh["id"] != made["id"]
    bad = _upsert(client, {"new@example.com": {"email": "not-an-email"}})
    assert bad.status_code == 400 and "INVALID_EMAIL" in bad.json()["message"]


def test_custom_unique_property_as_id_property(hub: tuple[HubSpotSandbox, httpx.Client]) -> None:
    _, client = hub
    assert _upsert(client, {"x@example.com": {"firstname": "Warm"}}).status_code == 200
    created = client.post(
        "/crm/v3/properties/contacts",
        json={
            "name": "crm_ref",
            "label": "CRM ref",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
            "hasUniqueValue": True,
        },
    )
    assert created.status_code == 201, created.text
    made = _ok(_upsert(client, {"REF-1": {"firstname": "Rita"}}, id_property="crm_ref"))[0]
    assert made["new"] is True and made["properties"]["crm_ref"] == "REF-1"
    same = _ok(_upsert(client, {"ref-1": {"lastname": "R"}}, id_property="crm_ref"))[0]
    assert (same["id"], same["new"]) == (made["id"], False)
    # renaming the key through properties re-indexes it
    _ok(_upsert(client, {"REF-1": {"crm_ref": "REF-2"}}, id_property="crm_ref"))
    renamed = _ok(_upsert(client, {"REF-2": {"lastname": "S"}}, id_property="crm_ref"))[0]
    assert (renamed["id"], renamed["new"]) == (made["id"], False)
    # a property archived after earlier upserts is refused from then on
    assert client.delete("/crm/v3/properties/contacts/crm_ref").status_code == 204
    refused = _upsert(client, {"x@example.com": {"crm_ref": "REF-3"}})
    assert refused.status_code == 400 and "PROPERTY_DOESNT_EXIST" in refused.json()["message"]


def test_batch_level_refusals(hub: tuple[HubSpotSandbox, httpx.Client]) -> None:
    sandbox, client = hub
    mixed = client.post(
        UPSERT,
        json={
            "inputs": [
                {"id": "a@example.com", "idProperty": "email", "properties": {}},
                {"id": "1", "idProperty": "hs_object_id", "properties": {}},
            ]
        },
    )
    assert mixed.status_code == 400 and "same idProperty" in mixed.json()["message"]
    not_object = client.post(
        UPSERT,
        json={"inputs": [{"id": "a@example.com", "idProperty": "email", "properties": [1]}]},
    )
    assert not_object.status_code == 400
    too_many = _upsert(client, {f"k{i}@example.com": {} for i in range(101)})
    assert too_many.status_code == 400
    assert too_many.json()["context"] == {"maxInputs": ["100"]}
    not_json = client.post(UPSERT, content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["category"] == "VALIDATION_ERROR"
    assert sandbox.counts()["contacts"] == 0
    unauthorised = httpx.post(str(client.base_url) + UPSERT, json={"inputs": []})
    assert unauthorised.status_code == 401
    logged = client.get("/_sandbox/state", params={"requests": 10}).json()["requests"]
    assert [(r["path"], r["status"]) for r in logged][-1] == (UPSERT, 401)


def test_hot_route_keeps_limits_faults_and_webhooks(serve: Any, receiver: Receiver) -> None:
    sandbox = HubSpotSandbox(SandboxOptions(rate_profile="free"), batch_delay=0.01)
    server = serve(sandbox)
    headers = {"Authorization": f"Bearer {sandbox.tokens.private_token}"}
    with httpx.Client(base_url=server.url("hubspot"), headers=headers) as client:
        client.post(
            "/_sandbox/webhooks",
            json={"url": receiver.url, "events": ["contact.propertyChange"]},
        )
        made = _upsert(client, {"w@example.com": {"firstname": "Wendy"}})
        assert made.headers["x-hubspot-ratelimit-max"] == "100"
        assert made.headers["x-hubspot-ratelimit-remaining"] == "99"
        receiver.wait(1)  # the creation's events, delivered on their own
        forced = client.post("/_sandbox/faults", json={"kind": "503", "count": 1, "path": UPSERT})
        assert forced.status_code == 200, forced.text
        failed = _upsert(client, {"w@example.com": {"firstname": "Wilma"}})
        assert failed.status_code == 503 and failed.json()["category"] == "SERVICE_UNAVAILABLE"
        changed = _ok(_upsert(client, {"w@example.com": {"firstname": "Wilma"}}))[0]
        events = [e for _, body in receiver.wait(2) for e in orjson.loads(body)]
        assert [(e["objectId"], e["propertyName"], e["propertyValue"]) for e in events][-1] == (
            int(changed["id"]),
            "firstname",
            "Wilma",
        )
        logged = client.get("/_sandbox/state", params={"requests": 3}).json()["requests"]
        assert [(r["path"], r["status"], r["fault"]) for r in logged[-2:]] == [
            (UPSERT, 503, "503"),
            (UPSERT, 200, None),
        ]
