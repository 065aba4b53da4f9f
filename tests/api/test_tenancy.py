"""Two workspaces: nothing of one is visible to, or changeable by, the other."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.test_permissions import SAMPLES
from tests.conftest import Tenant


def test_records_of_another_workspace_are_404_everywhere(
    client: TestClient, make_tenant: Callable[[], Tenant]
) -> None:
    a, b = make_tenant(), make_tenant()
    for record_type, body in SAMPLES.items():
        made = client.post(
            f"/api/v1/{record_type}",
            json={**body, "external_ref": "shared-ref"},
            headers=a.headers(),
        )
        assert made.status_code == 201, made.text
        rid = made.json()["id"]
        for method, json in (("GET", None), ("PATCH", {"external_ref": "x"}), ("DELETE", None)):
            answer = client.request(
                method, f"/api/v1/{record_type}/{rid}", json=json, headers=b.headers()
            )
            assert answer.status_code == 404, (record_type, method, answer.text)
            assert answer.json()["error"]["code"] == "not_found"
        listed = client.get(f"/api/v1/{record_type}", headers=b.headers()).json()
        assert listed["items"] == []
        # The same external_ref in B creates B's own record; A's is untouched.
        upsert = client.post(
            f"/api/v1/{record_type}/batch",
            json={"items": [{**body, "external_ref": "shared-ref"}]},
            headers=b.headers(),
        ).json()["results"][0]
        assert upsert["status"] == "created" and upsert["id"] != rid
        mine = client.get(f"/api/v1/{record_type}/{rid}", headers=a.headers()).json()
        assert mine["version"] == 1


def test_references_into_another_workspace_are_refused(
    client: TestClient, make_tenant: Callable[[], Tenant]
) -> None:
    a, b = make_tenant(), make_tenant()
    contact = client.post("/api/v1/contacts", json={"email": "x@a.com"}, headers=a.headers()).json()
    answer = client.post(
        "/api/v1/deals", json={"name": "steal", "contact_id": contact["id"]}, headers=b.headers()
    )
    assert answer.status_code == 422
    assert "contact_id" in answer.json()["error"]["message"]
    batch = client.post(
        "/api/v1/notes/batch",
        json={"items": [{"body": "n", "contact_id": contact["id"]}]},
        headers=b.headers(),
    ).json()
    assert batch["results"][0]["status"] == "error"


def test_email_matching_stays_inside_the_workspace(
    client: TestClient, make_tenant: Callable[[], Tenant]
) -> None:
    a, b = make_tenant(), make_tenant()
    client.post(
        "/api/v1/contacts", json={"email": "same@x.com", "first_name": "A"}, headers=a.headers()
    )
    result = client.post(
        "/api/v1/contacts/batch", json={"items": [{"email": "same@x.com"}]}, headers=b.headers()
    ).json()["results"][0]
    assert result["status"] == "created"
