"""``POST /{type}/batch``: one transaction, one result per item, matching by ref or email."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Tenant


def test_batch_with_some_invalid_items(client: TestClient, tenant: Tenant) -> None:
    items = [
        {"external_ref": "a", "email": "a@x.com", "first_name": "A"},
        {"external_ref": "b", "contact_type": "wizard"},
        {"email": "c@x.com", "nonsense": 1},
        "not an object",
        {"external_ref": "e", "email": "e@x.com"},
    ]
    answer = client.post("/api/v1/contacts/batch", json={"items": items}, headers=tenant.headers())
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == ["created", "error", "error", "error", "created"]
    assert "contact_type" in results[1]["error"]
    assert "nonsense" in results[2]["error"]
    listed = client.get("/api/v1/contacts", headers=tenant.headers()).json()["items"]
    assert sorted(i["external_ref"] for i in listed) == ["a", "e"]


def test_matching_by_external_ref_then_by_email(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    first = client.post(
        "/api/v1/contacts/batch",
        json={"items": [{"external_ref": "r1", "email": "one@x.com"}, {"email": "Two@X.com "}]},
        headers=h,
    ).json()["results"]
    second = client.post(
        "/api/v1/contacts/batch",
        json={
            "items": [
                {"external_ref": "r1", "first_name": "One"},
                {"email": "two@x.com", "first_name": "Two"},
                {"email": "one@x.com", "external_ref": "r9"},
            ]
        },
        headers=h,
    ).json()["results"]
    assert second[0] == {"index": 0, "status": "updated", "id": first[0]["id"], "error": None}
    assert second[1]["status"] == "updated" and second[1]["id"] == first[1]["id"]
    # an item with an external_ref is matched by it only: r9 is new even though the email exists
    assert second[2]["status"] == "created"
    two = client.get(f"/api/v1/contacts/{first[1]['id']}", headers=h).json()
    assert two["first_name"] == "Two" and two["version"] == 2


def test_items_in_one_batch_see_each_other(client: TestClient, tenant: Tenant) -> None:
    results = client.post(
        "/api/v1/contacts/batch",
        json={
            "items": [
                {"external_ref": "dup", "first_name": "First"},
                {"external_ref": "dup", "last_name": "Second"},
                {"email": "same@x.com"},
                {"email": "SAME@x.com", "city": "Rome"},
            ]
        },
        headers=tenant.headers(),
    ).json()["results"]
    assert [r["status"] for r in results] == ["created", "updated", "created", "updated"]
    assert results[0]["id"] == results[1]["id"] and results[2]["id"] == results[3]["id"]
    record = client.get(f"/api/v1/contacts/{results[0]['id']}", headers=tenant.headers()).json()
    assert (record["first_name"], record["last_name"]) == ("First", "Second")


def test_batch_revives_a_deleted_record_by_external_ref(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    made = client.post(
        "/api/v1/tickets", json={"subject": "s", "external_ref": "t1"}, headers=h
    ).json()
    client.delete(f"/api/v1/tickets/{made['id']}", headers=h)
    result = client.post(
        "/api/v1/tickets/batch",
        json={"items": [{"external_ref": "t1", "subject": "again"}]},
        headers=h,
    ).json()["results"][0]
    assert result["status"] == "updated" and result["id"] == made["id"]
    assert client.get(f"/api/v1/tickets/{made['id']}", headers=h).json()["subject"] == "again"


def test_batch_limits(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    too_many = client.post("/api/v1/notes/batch", json={"items": [{"body": "x"}] * 1001}, headers=h)
    assert too_many.status_code == 422
    assert client.post("/api/v1/notes/batch", json={"things": []}, headers=h).status_code == 422
    empty = client.post("/api/v1/notes/batch", json={"items": []}, headers=h)
    assert empty.status_code == 200 and empty.json() == {"results": []}
