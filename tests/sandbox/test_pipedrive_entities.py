"""Every Pipedrive entity through create, read, list, update, delete in each API version."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.pipedrive import Sandbox
from crmsync.sandbox.pipedrive.routing import resource_key


@pytest.fixture
def pd(serve: Callable[..., Any]) -> Iterator[httpx.Client]:
    sandbox = Sandbox(SandboxOptions(rate_profile="off"))
    url = serve(sandbox).url("pipedrive")
    with httpx.Client(base_url=url, params={"api_token": sandbox.oauth.api_token}) as client:
        yield client


def _parent(pd: httpx.Client) -> dict[str, Any]:
    return {"person_id": pd.post("/v1/persons", json={"name": "Parent"}).json()["data"]["id"]}


# (base path, create body, field to change, update method)
CASES = [
    ("/v1/persons", {"name": "A"}, "name", "PUT"),
    ("/v1/organizations", {"name": "A"}, "name", "PUT"),
    ("/v1/deals", {"title": "A"}, "title", "PUT"),
    ("/v1/activities", {"subject": "A"}, "subject", "PUT"),
    ("/v1/leads", {"title": "A"}, "title", "PATCH"),
    ("/v1/notes", {"content": "A"}, "content", "PUT"),
    ("/api/v2/persons", {"name": "A"}, "name", "PATCH"),
    ("/api/v2/organizations", {"name": "A"}, "name", "PATCH"),
    ("/api/v2/deals", {"title": "A"}, "title", "PATCH"),
    ("/api/v2/activities", {"subject": "A"}, "subject", "PATCH"),
]


@pytest.mark.parametrize(("base", "body", "field", "method"), CASES)
def test_entity_round_trip(
    pd: httpx.Client, base: str, body: dict[str, Any], field: str, method: str
) -> None:
    if base.endswith(("leads", "notes")):
        body = {**body, **_parent(pd)}
    created = pd.post(base, json=body)
    assert created.status_code in (200, 201)
    record_id = created.json()["data"]["id"]
    assert pd.get(f"{base}/{record_id}").json()["data"][field] == "A"
    updated = pd.request(method, f"{base}/{record_id}", json={field: "B"})
    assert updated.json()["data"][field] == "B"
    listed = pd.get(base).json()["data"]
    assert [r["id"] for r in listed] == [record_id]
    assert pd.delete(f"{base}/{record_id}").json()["data"] == {"id": record_id}
    assert pd.get(base).json()["data"] in (None, [])


def test_lead_search_and_archived_leads(pd: httpx.Client) -> None:
    parent = _parent(pd)
    kept = pd.post("/v1/leads", json={"title": "Jumbo loan", **parent}).json()["data"]["id"]
    shelved = pd.post("/v1/leads", json={"title": "Jumbo refi", **parent}).json()["data"]["id"]
    pd.patch(f"/v1/leads/{shelved}", json={"is_archived": True})
    assert [lead["id"] for lead in pd.get("/v1/leads").json()["data"]] == [kept]
    assert [lead["id"] for lead in pd.get("/v1/leads/archived").json()["data"]] == [shelved]
    found = pd.get("/v1/leads/search", params={"term": "jumbo"}).json()["data"]["items"]
    assert {i["item"]["id"] for i in found} == {kept, shelved}


def test_bulk_delete_by_ids(pd: httpx.Client) -> None:
    ids = [pd.post("/v1/persons", json={"name": f"P{n}"}).json()["data"]["id"] for n in range(3)]
    answer = pd.delete("/v1/persons", params={"ids": f"{ids[0]},{ids[2]}"})
    assert answer.json() == {"success": True, "data": {"id": [ids[0], ids[2]]}}
    assert [p["id"] for p in pd.get("/v1/persons").json()["data"]] == [ids[1]]
    missing = pd.delete("/v1/persons", params={"ids": f"{ids[1]},999"})
    assert missing.status_code == 404
    assert pd.get(f"/v1/persons/{ids[1]}").json()["data"]["active_flag"] is True
    assert pd.delete("/v1/persons", params={"ids": "a,b"}).status_code == 400


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/v1/persons/5", ("v1", "persons")),
        ("/api/v2/deals/search", ("api", "v2", "deals")),
        ("/v1/personFields", ("v1", "personFields")),
        ("/oauth/token", ("oauth",)),
        ("/", ()),
    ],
)
def test_routes_are_grouped_by_resource(path: str, key: tuple[str, ...]) -> None:
    assert resource_key(path) == key
