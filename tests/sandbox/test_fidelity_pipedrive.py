"""Pipedrive sandbox fidelity: one test per documented behaviour of
docs/sandboxes-fidelity.md (rows PD-n). Pipedrive has
no official Python client, so these speak HTTP as its OpenAPI describes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.pipedrive import Sandbox


@pytest.fixture
def pd(serve: Callable[..., Any]) -> Iterator[httpx.Client]:
    sandbox = Sandbox(SandboxOptions(rate_profile="off"))
    url = serve(sandbox).url("pipedrive")
    with httpx.Client(base_url=url, headers={"x-api-token": sandbox.oauth.api_token}) as client:
        yield client


def _field(pd: httpx.Client, field_type: str, **extra: Any) -> dict[str, Any]:
    body = {"name": f"F {field_type}", "field_type": field_type, **extra}
    return dict(pd.post("/v1/personFields", json=body).json()["data"])


def _person(pd: httpx.Client, **body: Any) -> httpx.Response:
    return pd.post("/api/v2/persons", json={"name": "Ann", **body})


# PD-1
def test_v2_monetary_fields_take_value_and_currency(pd: httpx.Client) -> None:
    key = _field(pd, "monetary")["key"]
    assert _person(pd, custom_fields={key: 1200}).status_code == 400
    assert _person(pd, custom_fields={key: {"value": "1200", "currency": "EUR"}}).status_code == 400
    made = _person(pd, custom_fields={key: {"value": 1200, "currency": "EUR"}}).json()["data"]
    assert made["custom_fields"][key] == {"value": 1200, "currency": "EUR"}
    flat = pd.get(f"/v1/persons/{made['id']}").json()["data"]
    assert (flat[key], flat[f"{key}_currency"]) == (1200, "EUR")


# PD-2
def test_v2_set_fields_are_arrays_of_option_ids(pd: httpx.Client) -> None:
    field = _field(pd, "set", options=[{"label": "A"}, {"label": "B"}])
    key, ids = field["key"], [o["id"] for o in field["options"]]
    assert _person(pd, custom_fields={key: "A"}).status_code == 400
    assert _person(pd, custom_fields={key: ",".join(map(str, ids))}).status_code == 400
    assert _person(pd, custom_fields={key: [999]}).status_code == 400
    made = _person(pd, custom_fields={key: ids}).json()["data"]
    again = pd.get(f"/api/v2/persons/{made['id']}").json()["data"]
    assert again["custom_fields"][key] == ids
    assert pd.get(f"/v1/persons/{made['id']}").json()["data"][key] == ",".join(map(str, ids))


# PD-3
def test_v2_enum_fields_take_an_existing_option_id(pd: httpx.Client) -> None:
    field = _field(pd, "enum", options=[{"label": "Gold"}])
    key, gold = field["key"], field["options"][0]["id"]
    assert _person(pd, custom_fields={key: "Gold"}).status_code == 400
    assert _person(pd, custom_fields={key: gold + 100}).status_code == 400
    assert _person(pd, custom_fields={key: gold}).json()["data"]["custom_fields"][key] == gold


# PD-4
def test_v2_refuses_numbers_sent_as_strings(pd: httpx.Client) -> None:
    key = _field(pd, "double")["key"]
    assert _person(pd, owner_id="1").status_code == 400
    assert _person(pd, visible_to="3").status_code == 400
    assert _person(pd, custom_fields={key: "4.5"}).status_code == 400
    assert _person(pd, emails=["ann@example.com"]).status_code == 400  # objects only
    assert pd.post("/api/v2/deals", json={"title": "D", "value": "100"}).status_code == 400
    assert _person(pd, owner_id=1, custom_fields={key: 4.5}).status_code == 200
    # v1 reads a numeric id string as the number
    assert pd.post("/v1/persons", json={"name": "Bo", "owner_id": "1"}).status_code == 201


# PD-5
def test_v2_refuses_booleans_sent_as_numbers(pd: httpx.Client) -> None:
    bad = pd.post("/api/v2/activities", json={"subject": "Call", "done": 1})
    good = pd.post("/api/v2/activities", json={"subject": "Call", "done": True})
    assert bad.status_code == 400 and bad.json()["success"] is False
    assert good.json()["data"]["done"] is True


# PD-6
def test_lists_apply_saved_filters(pd: httpx.Client) -> None:
    fields = {f["key"]: f for f in pd.get("/v1/personFields").json()["data"]}
    name_field = fields["name"]["id"]
    condition = {
        "object": "person",
        "field_id": str(name_field),
        "operator": "LIKE '$%'",
        "value": "an",
        "extra_value": None,
    }
    conditions = {
        "glue": "and",
        "conditions": [
            {"glue": "and", "conditions": [condition]},
            {"glue": "or", "conditions": []},
        ],
    }
    saved = pd.post("/v1/filters", json={"name": "An*", "type": "people", "conditions": conditions})
    filter_id = saved.json()["data"]["id"]
    for name in ("Ann", "Andy", "Bo"):
        _person(pd, name=name)
    v2 = pd.get("/api/v2/persons", params={"filter_id": filter_id}).json()["data"]
    v1 = pd.get("/v1/persons", params={"filter_id": filter_id}).json()["data"]
    assert [p["name"] for p in v2] == [p["name"] for p in v1] == ["Ann", "Andy"]
    assert pd.get("/api/v2/persons", params={"filter_id": 999}).status_code == 400
    assert pd.get("/api/v2/deals", params={"filter_id": filter_id}).status_code == 400
    assert [f["id"] for f in pd.get("/v1/filters", params={"type": "people"}).json()["data"]] == [
        filter_id
    ]
    bad = {
        **conditions,
        "conditions": [{"glue": "and", "conditions": [{**condition, "field_id": "1"}]}],
    }
    assert (
        pd.post("/v1/filters", json={"name": "x", "type": "people", "conditions": bad}).status_code
        == 400
    )


# PD-7
def test_users_are_listed(pd: httpx.Client) -> None:
    users = pd.get("/v1/users").json()["data"]
    assert [u["id"] for u in users] == [1, 2]
    assert pd.get("/v1/users/2").json()["data"]["email"] == "agent@sandbox.example"
    assert pd.get("/v1/users/9").status_code == 404


# PD-8
def test_unserved_endpoints_answer_pipedrive_not_found(pd: httpx.Client) -> None:
    answer = pd.get("/v1/mailbox/mailThreads")
    assert answer.status_code == 404
    assert answer.json()["success"] is False and "error" in answer.json()
