"""The OpenAPI document says what the API does: auth, the error shape, every status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from crmsync.api.errors import flat_routes
from crmsync.api.routing import GuardedRoute
from crmsync.store.models import AutomationRunStatus, EnrollmentStatus
from crmsync.sync.conflicts import CHOICES, Resolution
from tests.conftest import Tenant


def _doc(client: TestClient) -> dict[str, Any]:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    doc: dict[str, Any] = answer.json()
    return doc


def test_every_api_route_authenticates_before_its_body(app: FastAPI) -> None:
    routes = [getattr(r, "original_route", r) for r in flat_routes(app.router.routes)]
    api = [r for r in routes if isinstance(r, APIRoute) and r.path.startswith("/api/")]
    assert api and all(isinstance(r, GuardedRoute) for r in api)


def test_keyed_operations_declare_the_bearer_scheme_and_their_errors(
    client: TestClient,
) -> None:
    doc = _doc(client)
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "details"]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert "500" in statuses, (method, path)
            if path.startswith("/api/v1/") and "/webhooks/" not in path and "callback" not in path:
                assert operation["security"] == [{"bearer": []}], (method, path)
                assert {"401", "403"} <= statuses, (method, path)
            if "{" in path:
                assert "404" in statuses, (method, path)
    patch = doc["paths"]["/api/v1/contacts/{record_id}"]["patch"]["responses"]
    assert patch["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_documented_statuses_cover_real_answers(client: TestClient, tenant: Tenant) -> None:
    doc = _doc(client)
    answers = {
        ("post", "/api/v1/contacts"): client.post("/api/v1/contacts", content=b"{"),
        ("get", "/api/v1/contacts/{record_id}"): client.get(
            "/api/v1/contacts/00000000-0000-0000-0000-000000000000", headers=tenant.headers()
        ),
        ("post", "/api/v1/contacts/merge"): client.post(
            "/api/v1/contacts/merge",
            json={"survivor_id": "00000000-0000-0000-0000-000000000000", "merged_ids": []},
            headers=tenant.headers(),
        ),
    }
    for (method, path), answer in answers.items():
        assert str(answer.status_code) in doc["paths"][path][method]["responses"], (
            path,
            answer.status_code,
        )


def test_run_and_enrolment_logs_name_their_status_enum(client: TestClient) -> None:
    """The rules' run log and a contact's enrolments answer with models whose ``status``
    is the stored state's enum, so the document lists exactly the stored states."""
    doc = _doc(client)
    schemas = doc["components"]["schemas"]
    answers = {
        ("get", "/api/v1/rules/{rule_id}/runs"): AutomationRunStatus,
        ("get", "/api/v1/contacts/{contact_id}/journeys"): EnrollmentStatus,
        ("post", "/api/v1/contacts/{contact_id}/journeys/{journey_id}/enroll"): EnrollmentStatus,
        ("delete", "/api/v1/contacts/{contact_id}/journeys/{journey_id}"): EnrollmentStatus,
    }
    for (method, path), enum in answers.items():
        responses = doc["paths"][path][method]["responses"]
        ok = responses.get("200") or responses["201"]
        schema = ok["content"]["application/json"]["schema"]
        model = schemas[schema["$ref"].rsplit("/", 1)[1]]
        if "items" in model["properties"]:  # a page: its rows' model
            model = schemas[model["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]]
        ref = {"$ref": f"#/components/schemas/{enum.__name__}"}
        assert model["properties"]["status"] == ref, (method, path)
        assert schemas[enum.__name__]["enum"] == [s.value for s in enum]


def test_conflict_answers_list_every_resolution_and_requests_only_the_choices(
    client: TestClient,
) -> None:
    schemas = _doc(client)["components"]["schemas"]
    answer = schemas["ConflictOut"]["properties"]["resolution"]["anyOf"]
    assert {"$ref": "#/components/schemas/Resolution"} in answer
    assert schemas["Resolution"]["enum"] == [r.value for r in Resolution]
    assert "agreed" in schemas["Resolution"]["enum"]
    asked = schemas["ResolveIn"]["properties"]["resolution"]["enum"]
    assert asked == [r.value for r in CHOICES]
