"""Record lists filtered by relation and state, and a record's ChangeLog over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant


def _make(client: TestClient, tenant: Tenant, record_type: str, body: dict[str, Any]) -> str:
    made = client.post(f"/api/v1/{record_type}", json=body, headers=tenant.headers())
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _ids(client: TestClient, tenant: Tenant, record_type: str, **params: Any) -> set[str]:
    answer = client.get(f"/api/v1/{record_type}", params=params, headers=tenant.headers())
    assert answer.status_code == 200, answer.text
    return {item["id"] for item in answer.json()["items"]}


def test_a_contacts_records_by_contact_id(client: TestClient, tenant: Tenant) -> None:
    ann = _make(client, tenant, "contacts", {"email": "ann@example.com"})
    bob = _make(client, tenant, "contacts", {"email": "bob@example.com"})
    bodies = {
        "activities": {"type": "call"},
        "notes": {"body": "hello"},
        "deals": {"name": "D"},
        "tickets": {"subject": "help"},
        "leads": {"first_name": "L"},
    }
    for record_type, body in bodies.items():
        mine = {_make(client, tenant, record_type, {**body, "contact_id": ann}) for _ in range(2)}
        theirs = _make(client, tenant, record_type, {**body, "contact_id": bob})
        loose = _make(client, tenant, record_type, body)
        assert _ids(client, tenant, record_type, contact_id=ann) == mine, record_type
        assert _ids(client, tenant, record_type, contact_id=bob) == {theirs}, record_type
        assert {theirs, loose} <= _ids(client, tenant, record_type)
        # paging a filtered list walks only the filtered rows
        page = client.get(
            f"/api/v1/{record_type}",
            params={"contact_id": ann, "limit": 1},
            headers=tenant.headers(),
        ).json()
        rest = client.get(
            f"/api/v1/{record_type}",
            params={"contact_id": ann, "limit": 1, "cursor": page["next_cursor"]},
            headers=tenant.headers(),
        ).json()
        assert {page["items"][0]["id"], rest["items"][0]["id"]} == mine
        assert rest["next_cursor"] is None


def test_another_workspaces_contact_filters_to_nothing(
    client: TestClient, tenant: Tenant, make_tenant: Any
) -> None:
    other = make_tenant()
    theirs = _make(client, other, "contacts", {"email": "x@example.com"})
    _make(client, other, "notes", {"body": "theirs", "contact_id": theirs})
    assert _ids(client, tenant, "notes", contact_id=theirs) == set()


def test_deals_by_stage_and_pipeline_and_leads_by_status(
    client: TestClient, tenant: Tenant
) -> None:
    won_sales = _make(client, tenant, "deals", {"name": "a", "stage": "won", "pipeline": "sales"})
    won_renew = _make(client, tenant, "deals", {"name": "b", "stage": "won", "pipeline": "renew"})
    lost = _make(client, tenant, "deals", {"name": "c", "stage": "lost", "pipeline": "sales"})
    assert _ids(client, tenant, "deals", stage="won") == {won_sales, won_renew}
    assert _ids(client, tenant, "deals", pipeline="sales") == {won_sales, lost}
    assert _ids(client, tenant, "deals", stage="won", pipeline="sales") == {won_sales}
    assert _ids(client, tenant, "deals", stage="Won") == set()  # exact, as stored
    new = _make(client, tenant, "leads", {"first_name": "n"})
    lost_lead = _make(client, tenant, "leads", {"first_name": "l", "status": "LOST"})
    assert _ids(client, tenant, "leads", status="NEW") == {new}
    assert _ids(client, tenant, "leads", status="LOST") == {lost_lead}


def test_properties_by_status_and_city_and_leads_by_property(
    client: TestClient, tenant: Tenant
) -> None:
    elm = _make(client, tenant, "properties", {"title": "12 Elm", "city": "Porto"})
    oak = _make(
        client,
        tenant,
        "properties",
        {"title": "3 Oak", "city": "Lisbon", "status": "sold", "price": "350000.00"},
    )
    assert _ids(client, tenant, "properties", status="available") == {elm}
    assert _ids(client, tenant, "properties", status="sold", city="Lisbon") == {oak}
    assert _ids(client, tenant, "properties", city="lisbon") == set()  # exact, as stored
    asks = _make(client, tenant, "leads", {"first_name": "a", "property_id": elm})
    _make(client, tenant, "leads", {"first_name": "b", "property_id": oak})
    assert _ids(client, tenant, "leads", property_id=elm) == {asks}


def test_a_lead_cannot_point_at_a_missing_property(client: TestClient, tenant: Tenant) -> None:
    answer = client.post(
        "/api/v1/leads",
        json={"first_name": "x", "property_id": str(uuid.uuid4())},
        headers=tenant.headers(),
    )
    assert answer.status_code == 422, answer.text
    assert "property_id: no property with id" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("record_type", "params", "field"),
    [
        ("notes", {"contact_id": "not-a-uuid"}, "contact_id"),
        ("contacts", {"contact_id": str(uuid.uuid4())}, "contact_id"),
        ("contacts", {"stage": "won"}, "stage"),
        ("deals", {"status": "NEW"}, "status"),
        ("deals", {"stage": "x" * 101}, "stage"),
        ("deals", {"stage": " "}, "stage"),
        ("leads", {"status": "WON"}, "status"),
        ("tickets", {"contactid": str(uuid.uuid4())}, "contactid"),
        ("properties", {"status": "gone"}, "status"),
        ("leads", {"property_id": "elm"}, "property_id"),
        ("deals", [("stage", "a"), ("stage", "b")], "stage"),
        ("contacts", {"include": "friends"}, "include"),
    ],
)
def test_a_bad_filter_is_422_naming_it(
    client: TestClient, tenant: Tenant, record_type: str, params: Any, field: str
) -> None:
    answer = client.get(f"/api/v1/{record_type}", params=params, headers=tenant.headers())
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith(f"{field}:"), error
    assert error["details"][0]["field"] == field


def test_filters_appear_in_the_openapi_document(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    names = {p["name"] for p in spec["paths"]["/api/v1/deals"]["get"]["parameters"] if "name" in p}
    assert {"contact_id", "stage", "pipeline", "include"} <= names
    lead_status = next(
        p for p in spec["paths"]["/api/v1/leads"]["get"]["parameters"] if p["name"] == "status"
    )
    assert "CONVERTED" in lead_status["schema"]["enum"]


def _history(client: TestClient, tenant: Tenant, path: str, **params: Any) -> Any:
    return client.get(f"{path}/history", params=params, headers=tenant.headers())


def test_history_is_the_changelog_newest_first(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    rid = _make(client, tenant, "contacts", {"email": "h@example.com", "first_name": "Ann"})
    path = f"/api/v1/contacts/{rid}"
    client.patch(path, json={"first_name": "Anna", "city": "Porto"}, headers=h)
    client.patch(path, json={"city": "Lisbon"}, headers=h)
    answer = _history(client, tenant, path)
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert items[0]["field"] == "city" and items[0]["new_value"] == "Lisbon"
    assert items[0]["old_value"] == "Porto"
    created = items[-1]
    assert created["field"] == "*" and created["old_value"] is None
    assert created["new_value"]["email"] == "h@example.com"
    assert created["new_value"]["first_name"] == "Ann"
    assert len(items) == 4 and all(i["source"] == "api" for i in items)
    # paged one by one, the same rows in the same order
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = _history(client, tenant, path, **params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["id"] for i in seen] == [i["id"] for i in items]
    # a deleted record keeps its history; its last row is the deletion
    assert client.delete(path, headers=h).status_code == 204
    after = _history(client, tenant, path).json()["items"]
    assert after[0]["field"] == "deleted_at" and len(after) == 5


def test_history_of_another_workspace_or_a_bad_cursor(
    client: TestClient, tenant: Tenant, make_tenant: Any
) -> None:
    rid = _make(client, tenant, "deals", {"name": "mine"})
    other = make_tenant()
    assert _history(client, other, f"/api/v1/deals/{rid}").status_code == 404
    assert _history(client, tenant, f"/api/v1/deals/{uuid.uuid4()}").status_code == 404
    assert _history(client, tenant, f"/api/v1/notes/{rid}").status_code == 404  # not a note
    bad = _history(client, tenant, f"/api/v1/deals/{rid}", cursor="nonsense")
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "cursor"
