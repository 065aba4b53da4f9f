"""Pipedrive sandbox: custom fields with 40-character hash keys and search-then-write."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.pipedrive import Sandbox


@pytest.fixture
def pd(serve: Callable[..., Any]) -> Iterator[httpx.Client]:
    sandbox = Sandbox(SandboxOptions(rate_profile="off"))
    server = serve(sandbox)
    # the header form of the API token
    headers = {"x-api-token": sandbox.oauth.api_token}
    with httpx.Client(base_url=server.url("pipedrive"), headers=headers) as client:
        yield client


def test_custom_field_creation_and_listing(pd: httpx.Client) -> None:
    standard = pd.get("/v1/personFields").json()
    keys = [f["key"] for f in standard["data"]]
    assert {"name", "email", "phone", "org_id"} <= set(keys)
    assert standard["additional_data"]["pagination"]["more_items_in_collection"] is False

    made = pd.post(
        "/v1/dealFields",
        json={"name": "Loan type", "field_type": "enum", "options": [{"label": "FHA"}, "VA"]},
    ).json()["data"]
    assert re.fullmatch(r"[0-9a-f]{40}", made["key"])
    assert made["edit_flag"] is True
    assert made["options"] == [{"id": 1, "label": "FHA"}, {"id": 2, "label": "VA"}]
    listed = [f for f in pd.get("/v1/dealFields").json()["data"] if f["edit_flag"]]
    assert [f["key"] for f in listed] == [made["key"]]
    # a person field with the same name gets a different key
    other = pd.post("/v1/personFields", json={"name": "Loan type", "field_type": "varchar"})
    assert other.json()["data"]["key"] != made["key"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"field_type": "varchar"}, "Field name must be given."),
        ({"name": "X", "field_type": "colour"}, "Invalid field_type 'colour'"),
        ({"name": "X", "field_type": "enum"}, "Options must be given for enum and set fields."),
    ],
)
def test_bad_field_definitions(pd: httpx.Client, body: dict[str, Any], message: str) -> None:
    response = pd.post("/v1/personFields", json=body)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["error"] == message


def test_custom_values_are_checked_against_field_types(pd: httpx.Client) -> None:
    key = pd.post("/v1/personFields", json={"name": "Income", "field_type": "double"}).json()[
        "data"
    ]["key"]
    bad = pd.post("/v1/persons", json={"name": "A", key: "lots"})
    assert bad.status_code == 400 and bad.json()["error"] == "Invalid value for field 'Income'"
    unknown = pd.post("/api/v2/persons", json={"name": "A", "custom_fields": {"f" * 40: 1}})
    assert unknown.status_code == 400
    good = pd.post("/v1/persons", json={"name": "A", key: 1200.5}).json()["data"]
    assert good[key] == 1200.5


def test_person_search_by_email_and_phone_then_write(pd: httpx.Client) -> None:
    pd.post("/v1/persons", json={"name": "Ann Lee", "email": "ann@example.com"})
    target = pd.post(
        "/v1/persons",
        json={"name": "Bo Chan", "email": ["bo@example.com"], "phone": "+1 (555) 010-0200"},
    ).json()["data"]["id"]

    by_email = pd.get(
        "/v1/persons/search",
        params={"term": "BO@example.com", "fields": "email", "exact_match": "true"},
    ).json()
    items = by_email["data"]["items"]
    assert [i["item"]["id"] for i in items] == [target]
    assert items[0]["item"]["type"] == "person"
    assert items[0]["item"]["emails"] == ["bo@example.com"]

    by_phone = pd.get(
        "/api/v2/persons/search", params={"term": "15550100200", "fields": "phone"}
    ).json()
    assert [i["item"]["id"] for i in by_phone["data"]["items"]] == [target]
    assert by_phone["additional_data"] == {"next_cursor": None}

    # a partial term matches without exact_match, not with it
    partial = {"term": "example.com", "fields": "email"}
    assert len(pd.get("/v1/persons/search", params=partial).json()["data"]["items"]) == 2
    exact = {**partial, "exact_match": "true"}
    assert pd.get("/v1/persons/search", params=exact).json()["data"]["items"] == []

    pd.patch(f"/api/v2/persons/{target}", json={"name": "Bo Chan-Li"})
    assert pd.get(f"/api/v2/persons/{target}").json()["data"]["name"] == "Bo Chan-Li"


def test_search_skips_deleted_and_rejects_bad_terms(pd: httpx.Client) -> None:
    gone = pd.post("/v1/organizations", json={"name": "Acme Lending"}).json()["data"]["id"]
    pd.delete(f"/v1/organizations/{gone}")
    found = pd.get("/v1/organizations/search", params={"term": "Acme"}).json()
    assert found["data"]["items"] == []
    short = pd.get("/v1/persons/search", params={"term": "a"})
    assert short.status_code == 400 and short.json()["success"] is False
    wrong_field = pd.get("/v1/persons/search", params={"term": "ann", "fields": "title"})
    assert wrong_field.status_code == 400


def test_search_pages_with_start_and_limit(pd: httpx.Client) -> None:
    for n in range(5):
        pd.post("/v1/deals", json={"title": f"Mortgage {n}"})
    first = pd.get("/v1/deals/search", params={"term": "mortgage", "limit": 3}).json()
    assert len(first["data"]["items"]) == 3
    block = first["additional_data"]["pagination"]
    assert block["more_items_in_collection"] is True
    rest = pd.get(
        "/v1/deals/search", params={"term": "mortgage", "limit": 3, "start": block["next_start"]}
    ).json()
    titles = {i["item"]["title"] for i in first["data"]["items"] + rest["data"]["items"]}
    assert titles == {f"Mortgage {n}" for n in range(5)}
