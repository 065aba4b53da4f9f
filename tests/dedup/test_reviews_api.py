"""The review queue: possible duplicates listed, confirmed or rejected; rejections stick."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crmsync.auth.permissions import PERMISSIONS, Permission, Role
from tests.conftest import Tenant

URL = "/api/v1/contacts/duplicates"


def _make(client: TestClient, tenant: Tenant, **body: Any) -> str:
    made = client.post("/api/v1/contacts", json=body, headers=tenant.headers())
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _possible_pair(client: TestClient, tenant: Tenant) -> tuple[str, str]:
    """A rare name at one company in one city, but each record with its own phone and
    one a personal e-mail: likely one person, not sure enough to act on."""
    a = _make(
        client, tenant, first_name="Wilhelmina", last_name="Oyelaran", company="Initech",
        city="Austin", email="w.oyelaran@initech.example", phone="+12125550177",
    )  # fmt: skip
    b = _make(
        client, tenant, first_name="Wilhelmina", last_name="Oyelaran", company="Initech",
        city="Austin", email="wilhelmina.o@gmail.com", phone="+13125550123",
    )  # fmt: skip
    return tuple(sorted((a, b)))  # type: ignore[return-value]


def _listed(client: TestClient, tenant: Tenant, status: str) -> list[list[str]]:
    answer = client.get(URL, params={"status": status}, headers=tenant.headers(Role.VIEWER))
    assert answer.status_code == 200, answer.text
    return [p["ids"] for p in answer.json()["pairs"]]


def test_possible_pairs_are_listed_and_a_rejection_is_remembered(
    client: TestClient, tenant: Tenant
) -> None:
    a, b = _possible_pair(client, tenant)
    check = client.post(f"/api/v1/contacts/{a}/check-duplicate", headers=tenant.headers())
    assert check.json()["status"] == "possible" and check.json()["possible_of"] == b
    assert check.json()["is_duplicate"] is False
    # the evidence against is shown: the phones differ
    phone = next(f for f in check.json()["evidence"]["fields"] if f["field"] == "phone")
    assert phone["weight"] < 0 and not phone["agrees"]
    assert "phone" in check.json()["evidence"]["against"]
    assert client.get(URL, headers=tenant.headers()).json()["clusters"] == []
    assert _listed(client, tenant, "possible") == [[a, b]]

    rejected = client.post(f"{URL}/reject", json={"ids": [b, a]}, headers=tenant.headers())
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["ids"] == [a, b]
    assert _listed(client, tenant, "possible") == []
    assert _listed(client, tenant, "rejected") == [[a, b]]
    again = client.post(f"/api/v1/contacts/{a}/check-duplicate", headers=tenant.headers())
    assert again.json()["status"] == "distinct" and again.json()["possible_of"] is None


def test_confirm_takes_the_pair_out_of_the_queue(client: TestClient, tenant: Tenant) -> None:
    a, b = _possible_pair(client, tenant)
    answer = client.post(f"{URL}/confirm", json={"ids": [a, b]}, headers=tenant.headers())
    assert answer.status_code == 200 and answer.json()["status"] == "confirmed"
    assert _listed(client, tenant, "possible") == []
    assert _listed(client, tenant, "confirmed") == [[a, b]]


def test_bad_pairs_and_other_workspaces(
    client: TestClient, tenant: Tenant, make_tenant: Callable[[], Tenant]
) -> None:
    a, b = _possible_pair(client, tenant)
    h = tenant.headers()
    assert client.post(f"{URL}/reject", json={"ids": [a, a]}, headers=h).status_code == 422
    assert client.post(f"{URL}/reject", json={"ids": [a]}, headers=h).status_code == 422
    assert client.get(URL, params={"status": "maybe"}, headers=h).status_code == 422
    other = make_tenant()
    theirs = _make(client, other, first_name="Ana", email="ana@other.example")
    for ids in ([a, b], [theirs, a]):
        answer = client.post(f"{URL}/reject", json={"ids": ids}, headers=other.headers())
        assert answer.status_code == 404, answer.text
    assert _listed(client, other, "possible") == []


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_deciding_needs_write_permission(client: TestClient, tenant: Tenant, role: Role) -> None:
    a, b = _possible_pair(client, tenant)
    for decision in ("confirm", "reject"):
        answer = client.post(
            f"{URL}/{decision}", json={"ids": [a, b]}, headers=tenant.headers(role)
        )
        if Permission.RECORDS_WRITE in PERMISSIONS[role]:
            assert answer.status_code == 200, answer.text
        else:
            assert answer.status_code == 403
