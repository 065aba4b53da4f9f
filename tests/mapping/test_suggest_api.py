"""``POST /api/v1/mappings/suggest`` on an app that includes the mappings router."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from crmsync.api.routers import mappings
from tests.conftest import Tenant, create_test_app

URL = "/api/v1/mappings/suggest"


@pytest.fixture(scope="module")
def suggest_client(database_url: str, engine: Engine) -> Iterator[TestClient]:
    app = create_test_app(database_url, engine)
    app.include_router(mappings.router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_suggests_targets_with_confidence_and_alternatives(
    suggest_client: TestClient, tenant: Tenant
) -> None:
    body = {
        "object_type": "contacts",
        "fields": ["E-mail", "Given name", "col9"],
        "samples": {"col9": ["(415) 555-2671", "212 736 5000"]},
    }
    answer = suggest_client.post(URL, json=body, headers=tenant.headers())
    assert answer.status_code == 200
    suggestions = answer.json()["suggestions"]
    assert [(s["source"], s["target"]) for s in suggestions] == [
        ("E-mail", "email"),
        ("Given name", "first_name"),
        ("col9", "phone"),
    ]
    for s in suggestions:
        assert 0.6 <= s["confidence"] <= 1
        assert len(s["alternatives"]) <= 3
        assert all(set(a) == {"target", "confidence"} for a in s["alternatives"])


def test_unknown_headers_get_no_target(suggest_client: TestClient, tenant: Tenant) -> None:
    body = {"object_type": "deals", "fields": ["Favourite colour"]}
    answer = suggest_client.post(URL, json=body, headers=tenant.headers())
    assert answer.json()["suggestions"][0]["target"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"object_type": "widgets", "fields": ["a"]},
        {"object_type": "contacts", "fields": []},
        {"object_type": "contacts", "fields": [""]},
        {"object_type": "contacts", "fields": ["a"], "extra": 1},
        {"object_type": "contacts", "fields": ["a"], "region": "USA"},
    ],
)
def test_bad_bodies_are_422(
    suggest_client: TestClient, tenant: Tenant, body: dict[str, object]
) -> None:
    assert suggest_client.post(URL, json=body, headers=tenant.headers()).status_code == 422


def test_needs_an_api_key(suggest_client: TestClient) -> None:
    answer = suggest_client.post(URL, json={"object_type": "leads", "fields": ["Email"]})
    assert answer.status_code == 401
