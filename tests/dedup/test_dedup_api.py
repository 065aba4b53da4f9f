"""The duplicates API: clusters (paged), check, merge, settings; roles and tenancy."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from tests.conftest import Tenant

# (method, path, permission): the duplicates routes, for the permission matrix.
ROUTES: list[tuple[str, str, Permission]] = [
    ("GET", "/api/v1/contacts/duplicates", Permission.RECORDS_READ),
    ("POST", "/api/v1/contacts/{record_id}/check-duplicate", Permission.RECORDS_READ),
    ("POST", "/api/v1/contacts/merge", Permission.RECORDS_DELETE),
    ("POST", "/api/v1/contacts/duplicates/confirm", Permission.RECORDS_WRITE),
    ("POST", "/api/v1/contacts/duplicates/reject", Permission.RECORDS_WRITE),
    ("GET", "/api/v1/settings/dedup", Permission.RECORDS_READ),
    ("PUT", "/api/v1/settings/dedup", Permission.WORKSPACE_ADMIN),
]


def _make(client: TestClient, tenant: Tenant, **body: Any) -> str:
    made = client.post("/api/v1/contacts", json=body, headers=tenant.headers())
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _pair(client: TestClient, tenant: Tenant, n: int) -> tuple[str, str]:
    """Two contacts of one person: same name, the same email typed differently."""
    first, last = f"Ana{chr(97 + n)}", f"Lima{chr(97 + n)}"
    return (
        _make(client, tenant, first_name=first, last_name=last, email=f"ana{n}@lima.example"),
        _make(client, tenant, first_name=first, last_name=last, email=f"ANA{n}@Lima.example "),
    )


def test_clusters_page_by_keyset_without_skips_or_repeats(
    client: TestClient, tenant: Tenant
) -> None:
    pairs = {tuple(sorted(_pair(client, tenant, n))) for n in range(5)}
    _make(client, tenant, first_name="Solo", last_name="Person", email="solo@example.com")
    seen: list[tuple[str, ...]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        answer = client.get(
            "/api/v1/contacts/duplicates", params=params, headers=tenant.headers(Role.VIEWER)
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages += 1
        for cluster in body["clusters"]:
            assert cluster["ids"] == sorted(cluster["ids"])
            assert 0 < cluster["score"] <= 1
            assert "exact_email" in cluster["explanation"]
            assert cluster["links"][0]["rule"] == "exact_email"
            assert "email" in cluster["links"][0]["matched_fields"]
            seen.append(tuple(cluster["ids"]))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(seen) and set(seen) == pairs and len(seen) == len(pairs)


def test_bad_cursor_and_limit_are_422(client: TestClient, tenant: Tenant) -> None:
    for params in ({"cursor": "nonsense"}, {"limit": 0}, {"limit": 501}):
        answer = client.get("/api/v1/contacts/duplicates", params=params, headers=tenant.headers())
        assert answer.status_code == 422, params
        assert answer.json()["error"]["code"] == "validation_error"


def test_check_duplicate_stored_and_with_changes(client: TestClient, tenant: Tenant) -> None:
    a, b = _pair(client, tenant, 0)
    url = f"/api/v1/contacts/{b}/check-duplicate"
    stored = client.post(url, headers=tenant.headers(Role.VIEWER))
    assert stored.status_code == 200, stored.text
    found = stored.json()
    assert found["is_duplicate"] is True and found["duplicate_of"] == a
    assert found["score"] > 0.9 and "email" in found["matched_fields"]
    assert found["explanation"].startswith("duplicate by exact_email")
    # as it would be with another email: the same name alone is not a duplicate
    changed = client.post(
        url, json={"email": "someone.else@other.example"}, headers=tenant.headers()
    )
    assert changed.status_code == 200
    assert changed.json()["is_duplicate"] is False and changed.json()["duplicate_of"] is None
    bad = client.post(url, json={"email": 5, "nope": 1}, headers=tenant.headers())
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} >= {"nope"}


def test_settings_change_alters_a_check(client: TestClient, tenant: Tenant) -> None:
    a, b = _pair(client, tenant, 0)
    url = f"/api/v1/contacts/{b}/check-duplicate"
    assert client.post(url, headers=tenant.headers()).json()["is_duplicate"] is True
    defaults = client.get("/api/v1/settings/dedup", headers=tenant.headers(Role.VIEWER)).json()
    assert defaults["exact_email"] is True and defaults["name_threshold"] == 0.85

    off = {"exact_email": False, "fuzzy_name": False}
    put = client.put("/api/v1/settings/dedup", json=off, headers=tenant.headers(Role.ADMIN))
    assert put.status_code == 200, put.text
    assert put.json()["exact_email"] is False and put.json()["other_fields"] is True
    assert client.post(url, headers=tenant.headers()).json()["is_duplicate"] is False
    listed = client.get("/api/v1/contacts/duplicates", headers=tenant.headers()).json()
    assert listed["clusters"] == []

    assert (
        client.put("/api/v1/settings/dedup", json={}, headers=tenant.headers()).status_code == 200
    )
    assert client.post(url, headers=tenant.headers()).json()["duplicate_of"] == a


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name_threshold": 2}, "name_threshold"),
        ({"corroboration_fields": ["shoe_size"]}, "corroboration_fields.0"),
        ({"bogus": True}, "bogus"),
    ],
)
def test_invalid_settings_name_the_field(
    client: TestClient, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    answer = client.put("/api/v1/settings/dedup", json=body, headers=tenant.headers())
    assert answer.status_code == 422
    assert field in {d["field"] for d in answer.json()["error"]["details"]}


def test_merge_endpoint_and_resolution(client: TestClient, tenant: Tenant) -> None:
    a, b = _pair(client, tenant, 0)
    client.post(
        "/api/v1/notes", json={"body": "called", "contact_id": b}, headers=tenant.headers()
    ).raise_for_status()
    merged = client.post(
        "/api/v1/contacts/merge",
        json={"survivor_id": a, "merged_ids": [b], "strategy": "prefer_existing"},
        headers=tenant.headers(Role.MANAGER),
    )
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["survivor"]["id"] == a and body["merged_ids"] == [b]
    assert body["moved"]["notes"] == 1 and body["crm_jobs"] == {"upsert": 0, "merge": 0}

    # the merged-away id answers with the survivor, and a PATCH through it changes it
    read = client.get(f"/api/v1/contacts/{b}", headers=tenant.headers())
    assert read.status_code == 200 and read.json()["id"] == a
    patched = client.patch(
        f"/api/v1/contacts/{b}", json={"city": "Porto"}, headers=tenant.headers()
    )
    assert patched.status_code == 200 and patched.json()["id"] == a
    assert client.get(f"/api/v1/contacts/{a}", headers=tenant.headers()).json()["city"] == "Porto"
    assert client.delete(f"/api/v1/contacts/{b}", headers=tenant.headers()).status_code == 404
    # the pair is no longer a cluster
    listed = client.get("/api/v1/contacts/duplicates", headers=tenant.headers()).json()
    assert listed["clusters"] == []

    again = client.post(
        "/api/v1/contacts/merge",
        json={"survivor_id": a, "merged_ids": [b]},
        headers=tenant.headers(),
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"survivor_id": "{a}", "merged_ids": ["{a}"]}, 422),
        ({"survivor_id": "{a}", "merged_ids": []}, 422),
        ({"survivor_id": "{a}", "merged_ids": ["{b}"], "strategy": "newest"}, 422),
        ({"survivor_id": "{a}", "merged_ids": ["not-an-id"]}, 422),
        ({"survivor_id": "{a}", "merged_ids": [str(uuid.UUID(int=7))]}, 404),
    ],
)
def test_merge_bad_input(
    client: TestClient, tenant: Tenant, body: dict[str, Any], status: int
) -> None:
    a, b = _pair(client, tenant, 0)
    sent = {
        k: [x.format(a=a, b=b) for x in v] if isinstance(v, list) else v.format(a=a, b=b)
        for k, v in body.items()
    }
    answer = client.post("/api/v1/contacts/merge", json=sent, headers=tenant.headers())
    assert answer.status_code == status, answer.text
    assert set(answer.json()["error"]) == {"code", "message", "details"}


def test_other_workspace_is_404(
    client: TestClient, tenant: Tenant, make_tenant: Callable[[], Tenant]
) -> None:
    a, b = _pair(client, tenant, 0)
    other = make_tenant()
    theirs = _make(client, other, first_name="Ana", email="ana@other.example")
    h = other.headers()
    assert client.post(f"/api/v1/contacts/{a}/check-duplicate", headers=h).status_code == 404
    assert client.get("/api/v1/contacts/duplicates", headers=h).json()["clusters"] == []
    for survivor, merged in ((theirs, a), (a, theirs), (a, b)):
        answer = client.post(
            "/api/v1/contacts/merge",
            json={"survivor_id": survivor, "merged_ids": [merged]},
            headers=h,
        )
        assert answer.status_code == 404, answer.text


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_matrix(client: TestClient, tenant: Tenant, role: Role) -> None:
    a, b = _pair(client, tenant, 0)
    calls: dict[str, tuple[str, str, Any]] = {
        "GET /api/v1/contacts/duplicates": ("GET", "/api/v1/contacts/duplicates", None),
        "POST /api/v1/contacts/{record_id}/check-duplicate": (
            "POST",
            f"/api/v1/contacts/{a}/check-duplicate",
            None,
        ),
        "POST /api/v1/contacts/merge": (
            "POST",
            "/api/v1/contacts/merge",
            {"survivor_id": a, "merged_ids": [b]},
        ),
        "POST /api/v1/contacts/duplicates/confirm": (
            "POST",
            "/api/v1/contacts/duplicates/confirm",
            {"ids": [a, b]},
        ),
        "POST /api/v1/contacts/duplicates/reject": (
            "POST",
            "/api/v1/contacts/duplicates/reject",
            {"ids": [a, b]},
        ),
        "GET /api/v1/settings/dedup": ("GET", "/api/v1/settings/dedup", None),
        "PUT /api/v1/settings/dedup": ("PUT", "/api/v1/settings/dedup", {}),
    }
    for method, template, permission in ROUTES:
        _m, path, body = calls[f"{method} {template}"]
        answer = client.request(method, path, json=body, headers=tenant.headers(role))
        if permission in PERMISSIONS[role]:
            assert answer.status_code == 200, (role, path, answer.text)
        else:
            assert answer.status_code == 403, (role, path)
            assert answer.json()["error"]["details"] == {"required": permission.value}
