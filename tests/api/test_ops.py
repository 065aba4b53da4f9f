"""Health, readiness, metrics, request ids and the OpenAPI description."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from tests.conftest import Tenant, create_test_app


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok"}


def test_not_ready_without_a_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    url = f"sqlite:///{missing}"
    app = create_test_app(url, create_engine(url))
    with TestClient(app) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["status"] == "unavailable"


def test_metrics_count_requests_by_route_template(client: TestClient, tenant: Tenant) -> None:
    made = client.post("/api/v1/notes", json={"body": "m"}, headers=tenant.headers()).json()
    client.get(f"/api/v1/notes/{made['id']}", headers=tenant.headers())
    text = client.get("/metrics").text
    assert 'route="/api/v1/notes/{record_id}",status="200"' in text
    assert f"/api/v1/notes/{made['id']}" not in text  # ids never become label values


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32


def test_every_route_is_described_in_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "crmsync"
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            assert op.get("summary"), f"{method.upper()} {path} has no summary"
    contact_schema = spec["components"]["schemas"]["ContactIn"]
    assert "email" in contact_schema["properties"]
    assert client.get("/docs").status_code == 200


def test_access_logs_are_json_with_the_request_id(client: TestClient, tenant: Tenant) -> None:
    import io
    import json

    from crmsync.logging import configure

    stream = io.StringIO()
    configure("INFO", json=True, stream=stream)
    try:
        client.get("/api/v1/contacts", headers={**tenant.headers(), "X-Request-ID": "trace-7"})
    finally:
        configure("WARNING", json=False)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [entry for entry in lines if entry.get("event") == "request"]
    assert access and access[-1]["request_id"] == "trace-7" and access[-1]["status"] == 200
    assert tenant.keys[next(iter(tenant.keys))] not in stream.getvalue()
