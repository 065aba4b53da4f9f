"""Records over HTTP: create, read, change, delete, list with keyset paging and search."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.conftest import Tenant


def test_create_get_patch_delete(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    made = client.post(
        "/api/v1/contacts",
        json={"email": " Ann@Example.com ", "first_name": "Ann", "contact_type": "borrower"},
        headers=h,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["email"] == "Ann@Example.com"  # stripped, case kept
    assert body["version"] == 1 and body["deleted_at"] is None
    assert "email_key" not in body and "workspace_id" not in body
    rid = body["id"]

    patched = client.patch(f"/api/v1/contacts/{rid}", json={"last_name": "Lee"}, headers=h).json()
    assert (
        patched["version"] == 2 and patched["last_name"] == "Lee" and patched["first_name"] == "Ann"
    )
    same = client.patch(f"/api/v1/contacts/{rid}", json={"last_name": "Lee"}, headers=h).json()
    assert same["version"] == 2, "a patch that changes nothing is not a new version"
    cleared = client.patch(f"/api/v1/contacts/{rid}", json={"last_name": None}, headers=h).json()
    assert cleared["last_name"] is None and cleared["version"] == 3

    assert client.delete(f"/api/v1/contacts/{rid}", headers=h).status_code == 204
    assert client.get(f"/api/v1/contacts/{rid}", headers=h).status_code == 404
    listed = client.get("/api/v1/contacts", params={"include_deleted": True}, headers=h).json()
    assert [i["id"] for i in listed["items"]] == [rid]
    assert listed["items"][0]["deleted_at"] is not None


def test_read_only_fields_in_a_body_are_ignored(client: TestClient, tenant: Tenant) -> None:
    forged = str(uuid.uuid4())
    body = {"name": "Acme", "id": forged, "workspace_id": forged, "version": 99}
    made = client.post("/api/v1/companies", json=body, headers=tenant.headers()).json()
    assert made["id"] != forged and made["version"] == 1
    patched = client.patch(
        f"/api/v1/companies/{made['id']}",
        json={"version": 50, "industry": "x"},
        headers=tenant.headers(),
    ).json()
    assert patched["version"] == 2


def test_unknown_and_mistyped_fields_are_422_naming_the_field(
    client: TestClient, tenant: Tenant
) -> None:
    h = tenant.headers()
    answer = client.post("/api/v1/contacts", json={"emial": "a@b.c"}, headers=h)
    assert answer.status_code == 422
    assert answer.json()["error"]["details"] == [{"field": "emial", "message": "unknown field"}]
    answer = client.post("/api/v1/deals", json={"name": "d", "amount": "lots"}, headers=h)
    assert answer.status_code == 422 and answer.json()["error"]["details"][0]["field"] == "amount"
    answer = client.post("/api/v1/leads", json={"status": "MAYBE"}, headers=h)
    assert answer.status_code == 422 and "status" in answer.json()["error"]["message"]
    answer = client.post("/api/v1/companies", json={}, headers=h)
    assert answer.status_code == 422 and answer.json()["error"]["details"][0]["field"] == "name"


def test_external_ref_is_unique_per_workspace(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    assert client.post("/api/v1/leads", json={"external_ref": "r1"}, headers=h).status_code == 201
    again = client.post("/api/v1/leads", json={"external_ref": "r1"}, headers=h)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    other = client.post("/api/v1/leads", json={"external_ref": "r2"}, headers=h).json()
    clash = client.patch(f"/api/v1/leads/{other['id']}", json={"external_ref": "r1"}, headers=h)
    assert clash.status_code == 409


def test_keyset_paging_visits_every_record_once(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    items = [{"external_ref": f"p{i}", "email": f"p{i}@x.com"} for i in range(23)]
    client.post("/api/v1/contacts/batch", json={"items": items}, headers=h)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/contacts", params=params, headers=h).json()
        seen += [i["external_ref"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert sorted(seen) == sorted(i["external_ref"] for i in items)
    assert len(set(seen)) == len(seen)


def test_a_record_changed_while_paging_is_seen_again_at_the_end(
    client: TestClient, tenant: Tenant
) -> None:
    h = tenant.headers()
    items = [{"external_ref": f"m{i}", "email": f"m{i}@x.com"} for i in range(6)]
    client.post("/api/v1/contacts/batch", json={"items": items}, headers=h)
    first = client.get("/api/v1/contacts", params={"limit": 3}, headers=h).json()
    changed = first["items"][0]
    client.patch(f"/api/v1/contacts/{changed['id']}", json={"city": "Oslo"}, headers=h)
    rest = client.get(
        "/api/v1/contacts", params={"limit": 10, "cursor": first["next_cursor"]}, headers=h
    ).json()
    assert rest["items"][-1]["id"] == changed["id"]


def test_updated_since_and_search(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    old = client.post(
        "/api/v1/contacts", json={"first_name": "Zed", "email": "zed@old.com"}, headers=h
    ).json()
    new = client.post(
        "/api/v1/contacts", json={"first_name": "Amy", "email": "amy_50%@new.com"}, headers=h
    ).json()
    since = client.get(
        "/api/v1/contacts", params={"updated_since": new["updated_at"]}, headers=h
    ).json()
    assert [i["id"] for i in since["items"]] == [new["id"]]
    by_name = client.get("/api/v1/contacts", params={"q": "ze"}, headers=h).json()
    assert [i["id"] for i in by_name["items"]] == [old["id"]]
    # LIKE wildcards in q are literal
    literal = client.get("/api/v1/contacts", params={"q": "_50%"}, headers=h).json()
    assert [i["id"] for i in literal["items"]] == [new["id"]]
    percent = client.get("/api/v1/contacts", params={"q": "%"}, headers=h).json()["items"]
    assert [i["id"] for i in percent] == [new["id"]]


def test_bad_paging_parameters(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers()
    for params in (
        {"limit": 0},
        {"limit": 501},
        {"cursor": "not-a-cursor"},
        {"updated_since": "yesterday"},
    ):
        answer = client.get("/api/v1/contacts", params=params, headers=h)
        assert answer.status_code == 422, params
        assert set(answer.json()["error"]) == {"code", "message", "details"}
