"""Pipedrive sandbox records over real sockets: v1 and v2 CRUD, paging, deletes, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.pipedrive import Sandbox

OFF = SandboxOptions(rate_profile="off")


@pytest.fixture
def pd(serve: Callable[..., Any]) -> Iterator[httpx.Client]:
    sandbox = Sandbox(OFF)
    server = serve(sandbox)
    params = {"api_token": sandbox.oauth.api_token}
    with httpx.Client(base_url=server.url("pipedrive"), params=params) as client:
        yield client


def test_v1_person_lifecycle_keeps_the_envelope(pd: httpx.Client) -> None:
    created = pd.post("/v1/persons", json={"name": "Ann Lee", "email": "ann@example.com"})
    assert created.status_code == 201
    body = created.json()
    assert body["success"] is True
    person = body["data"]
    assert person["email"] == [{"value": "ann@example.com", "primary": True, "label": "work"}]
    assert person["active_flag"] is True
    assert len(person["add_time"]) == len("2026-01-01 00:00:00")

    updated = pd.put(f"/v1/persons/{person['id']}", json={"phone": ["+1 555 0100"]})
    assert updated.status_code == 200
    assert updated.json()["data"]["phone"][0]["value"] == "+1 555 0100"
    assert updated.json()["data"]["email"][0]["value"] == "ann@example.com"

    deleted = pd.delete(f"/v1/persons/{person['id']}")
    assert deleted.json() == {"success": True, "data": {"id": person["id"]}}
    # soft delete: still readable by id, inactive, gone from lists
    again = pd.get(f"/v1/persons/{person['id']}").json()["data"]
    assert again["active_flag"] is False
    assert pd.get("/v1/persons").json()["data"] is None


def test_v2_update_is_patch_with_custom_fields_object(pd: httpx.Client) -> None:
    field = pd.post("/v1/personFields", json={"name": "Loan amount", "field_type": "monetary"})
    key = field.json()["data"]["key"]
    answer = pd.post(
        "/api/v2/persons",
        json={"name": "Bo Chan", "emails": [{"value": "bo@example.com", "primary": True}]},
    )
    assert answer.status_code == 200  # v2 creates answer 200, v1 creates 201
    made = answer.json()["data"]
    assert made["custom_fields"] == {}
    assert made["add_time"].endswith("Z")
    money = {"value": 250000, "currency": "EUR"}
    patched = pd.patch(f"/api/v2/persons/{made['id']}", json={"custom_fields": {key: money}})
    assert patched.json()["data"]["custom_fields"] == {key: money}
    # v1 shows the amount flat under the hash key, its currency beside it
    flat = pd.get(f"/v1/persons/{made['id']}").json()["data"]
    assert (flat[key], flat[f"{key}_currency"]) == (250000, "EUR")
    assert pd.put(f"/api/v2/persons/{made['id']}", json={}).status_code == 405
    other = pd.post("/v1/personFields", json={"name": "Source", "field_type": "varchar"})
    other_key = other.json()["data"]["key"]
    pd.patch(f"/api/v2/persons/{made['id']}", json={"custom_fields": {other_key: "web"}})
    only = pd.get("/api/v2/persons", params={"custom_fields": key}).json()["data"][0]
    assert only["custom_fields"] == {key: money}
    too_many = ",".join(f"{n:040x}" for n in range(16))
    assert pd.get("/api/v2/persons", params={"custom_fields": too_many}).status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/v1/persons", {"email": "x@example.com"}, "Name must be given."),
        ("/v1/deals", {"title": "  "}, "Title must be given."),
        ("/v1/deals", {"title": "D", "status": "maybe"}, "Invalid status. Allowed: open, won, "
         "lost"),
        ("/v1/persons", {"name": "A", "org_id": "acme"}, "Invalid org_id: must be an integer"),
        ("/v1/persons", {"name": "A", "org_id": 999}, "Organization 999 not found"),
        ("/v1/leads", {"title": "L"}, "A lead must be linked to a person or an organization."),
        ("/v1/notes", {"content": "hello"}, "Note must be attached to a lead, deal, person, "
         "organization or project."),
        ("/v1/persons", [1, 2], "Request body must be a JSON object"),
    ],
)  # fmt: skip
def test_bad_input_answers_success_false(
    pd: httpx.Client, path: str, body: Any, message: str
) -> None:
    response = pd.post(path, json=body)
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": message,
        "error_info": "Please check developers.pipedrive.com for more information about "
        "Pipedrive API.",
        "data": None,
        "additional_data": None,
    }


def test_unknown_record_and_path_are_404_in_pipedrive_shape(pd: httpx.Client) -> None:
    missing = pd.get("/v1/deals/12345")
    assert missing.status_code == 404
    assert missing.json()["error"] == "Deal not found"
    assert pd.get("/v1/nothing-here").json()["success"] is False


def test_v1_start_limit_pagination_walks_every_page(pd: httpx.Client) -> None:
    for n in range(7):
        pd.post("/v1/organizations", json={"name": f"Org {n}"})
    seen, start, pages = [], 0, 0
    while True:
        body = pd.get("/v1/organizations", params={"start": start, "limit": 3}).json()
        seen += [o["name"] for o in body["data"]]
        pages += 1
        block = body["additional_data"]["pagination"]
        if not block["more_items_in_collection"]:
            assert "next_start" not in block
            break
        start = block["next_start"]
    assert seen == [f"Org {n}" for n in range(7)]
    assert pages == 3
    assert pd.get("/v1/organizations", params={"limit": 501}).status_code == 400


def test_v2_cursor_pagination_with_updated_since(pd: httpx.Client) -> None:
    ids = [
        pd.post("/api/v2/deals", json={"title": f"Deal {n}"}).json()["data"]["id"] for n in range(5)
    ]
    got: list[int] = []
    params: dict[str, Any] = {"limit": 2, "updated_since": "2000-01-01T00:00:00Z"}
    while True:
        body = pd.get("/api/v2/deals", params=params).json()
        got += [d["id"] for d in body["data"]]
        cursor = body["additional_data"]["next_cursor"]
        if cursor is None:
            break
        params["cursor"] = cursor
    assert got == ids
    future = pd.get("/api/v2/deals", params={"updated_since": "2999-01-01T00:00:00Z"})
    assert future.json()["data"] == []
    fractional = pd.get("/api/v2/deals", params={"updated_since": "2000-01-01T00:00:00.5Z"})
    assert fractional.status_code == 400
    assert pd.get("/api/v2/deals", params={"cursor": "!!"}).json()["success"] is False


def test_cursor_does_not_repeat_when_records_arrive_between_pages(pd: httpx.Client) -> None:
    for n in range(4):
        pd.post("/api/v2/persons", json={"name": f"P{n}"})
    first = pd.get("/api/v2/persons", params={"limit": 2}).json()
    pd.post("/api/v2/persons", json={"name": "late"})
    second = pd.get(
        "/api/v2/persons", params={"limit": 10, "cursor": first["additional_data"]["next_cursor"]}
    ).json()
    names = [p["name"] for p in first["data"] + second["data"]]
    assert names == ["P0", "P1", "P2", "P3", "late"]


def test_deleted_and_archived_deals_stay_visible_for_incremental_sync(pd: httpx.Client) -> None:
    kept = pd.post("/v1/deals", json={"title": "kept"}).json()["data"]["id"]
    gone = pd.post("/v1/deals", json={"title": "gone"}).json()["data"]["id"]
    shelved = pd.post("/v1/deals", json={"title": "shelved"}).json()["data"]["id"]
    pd.delete(f"/v1/deals/{gone}")
    pd.put(f"/v1/deals/{shelved}", json={"is_archived": True})

    assert [d["id"] for d in pd.get("/v1/deals").json()["data"]] == [kept]
    deleted = pd.get("/v1/deals", params={"status": "deleted"}).json()["data"]
    assert [(d["id"], d["status"], d["deleted"]) for d in deleted] == [(gone, "deleted", True)]
    assert [
        d["id"] for d in pd.get("/api/v2/deals", params={"status": "deleted"}).json()["data"]
    ] == [gone]
    assert [d["id"] for d in pd.get("/v1/deals/archived").json()["data"]] == [shelved]
    recents = pd.get(
        "/v1/recents", params={"since_timestamp": "2000-01-01 00:00:00", "items": "deal"}
    ).json()
    states = {r["id"]: r["data"]["deleted"] for r in recents["data"]}
    assert states == {kept: False, gone: True, shelved: False}


def test_leads_use_uuid_ids_patch_and_flat_pagination(pd: httpx.Client) -> None:
    person = pd.post("/v1/persons", json={"name": "Lead Owner"}).json()["data"]["id"]
    lead = pd.post(
        "/v1/leads",
        json={"title": "Refi", "person_id": person, "value": {"amount": 5, "currency": "USD"}},
    )
    assert lead.status_code == 201
    lead_id = lead.json()["data"]["id"]
    assert len(lead_id) == 36 and lead_id.count("-") == 4
    patched = pd.patch(f"/v1/leads/{lead_id}", json={"title": "Refinance"})
    assert patched.json()["data"]["title"] == "Refinance"
    listing = pd.get("/v1/leads").json()
    assert listing["additional_data"] == {
        "start": 0,
        "limit": 100,
        "more_items_in_collection": False,
    }


def test_notes_and_activities_attach_to_records(pd: httpx.Client) -> None:
    deal = pd.post("/v1/deals", json={"title": "With notes"}).json()["data"]["id"]
    note = pd.post("/v1/notes", json={"content": "called", "deal_id": deal})
    assert note.status_code == 200  # notes answer 200, not 201
    pd.post(
        "/v1/notes",
        json={
            "content": "other",
            "deal_id": pd.post("/v1/deals", json={"title": "x"}).json()["data"]["id"],
        },
    )
    notes = pd.get("/v1/notes", params={"deal_id": deal}).json()["data"]
    assert [n["content"] for n in notes] == ["called"]
    newest_first = pd.get("/v1/notes", params={"sort": "id DESC"}).json()["data"]
    assert [n["content"] for n in newest_first] == ["other", "called"]
    assert pd.get("/v1/notes", params={"sort": "id SIDEWAYS"}).status_code == 400
    activity = pd.post(
        "/api/v2/activities", json={"subject": "Call back", "deal_id": deal, "done": False}
    ).json()["data"]
    done = pd.patch(f"/api/v2/activities/{activity['id']}", json={"done": True}).json()["data"]
    assert done["done"] is True
    assert pd.get("/v1/activities").json()["data"][0]["subject"] == "Call back"
