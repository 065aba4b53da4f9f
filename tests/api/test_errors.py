"""Bad input always gets a 4xx in one JSON shape, never a 500 or a stack trace."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import Tenant, create_test_app


def _assert_error(answer, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    ("method", "path", "content", "status", "code"),
    [
        ("POST", "/api/v1/contacts", b"{not json", 422, "validation_error"),
        ("POST", "/api/v1/contacts", b"[1, 2]", 422, "validation_error"),
        ("POST", "/api/v1/contacts/batch", b'{"items": {"a": 1}}', 422, "validation_error"),
        ("POST", "/api/v1/contacts", b'{"email": 5}', 422, "validation_error"),
        ("GET", "/api/v1/widgets", None, 404, "not_found"),
        ("GET", "/api/v1/contacts/not-a-uuid", None, 422, "validation_error"),
        ("GET", "/api/v1/contacts/00000000-0000-0000-0000-000000000000", None, 404, "not_found"),
        ("PUT", "/api/v1/contacts", b"{}", 405, "method_not_allowed"),
    ],
)
def test_bad_requests(
    client: TestClient,
    tenant: Tenant,
    method: str,
    path: str,
    content: bytes | None,
    status: int,
    code: str,
) -> None:
    headers = {**tenant.headers(), "Content-Type": "application/json"}
    _assert_error(client.request(method, path, content=content, headers=headers), status, code)


def test_oversize_body_is_413(client: TestClient, tenant: Tenant) -> None:
    big = b'{"items": [' + b",".join([b'{"email": "' + b"a" * 200 + b'@x.com"}'] * 6000) + b"]}"
    assert len(big) > 1024 * 1024
    headers = {**tenant.headers(), "Content-Type": "application/json"}
    _assert_error(
        client.post("/api/v1/contacts/batch", content=big, headers=headers),
        413,
        "payload_too_large",
    )


def test_oversize_chunked_body_is_413(client: TestClient, tenant: Tenant) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b" " * 65536

    headers = {**tenant.headers(), "Content-Type": "application/json"}
    _assert_error(
        client.post("/api/v1/contacts", content=chunks(), headers=headers), 413, "payload_too_large"
    )


def test_body_limit_is_configurable(
    database_url: str, engine: Engine, make_tenant: Callable[[], Tenant]
) -> None:
    small = create_test_app(database_url, engine, max_body_mb=0.001)
    tenant = make_tenant()
    with TestClient(small) as client:
        answer = client.post("/api/v1/notes", json={"body": "x" * 2000}, headers=tenant.headers())
        _assert_error(answer, 413, "payload_too_large")
        assert (
            client.post("/api/v1/notes", json={"body": "ok"}, headers=tenant.headers()).status_code
            == 201
        )


def test_every_kind_of_crmsync_error_has_one_status() -> None:
    from crmsync.api.errors import status_of
    from crmsync.errors import (
        Conflict,
        CrmsyncError,
        Invalid,
        NotAllowed,
        NotFound,
        TooLarge,
        Unavailable,
    )
    from crmsync.imports.errors import FileTooLarge, ImportProblem, JobNotFound, JobStateError
    from crmsync.integrations.service import CredentialsUnreadable
    from crmsync.marketing.errors import JourneyNotFound, RuleConflict
    from crmsync.records.errors import RecordInvalid

    expected = {
        NotFound: 404, Invalid: 422, TooLarge: 413, Conflict: 409, NotAllowed: 403,
        Unavailable: 503, CrmsyncError: 400, ImportProblem: 400, FileTooLarge: 413,
        JobNotFound: 404, JobStateError: 409, CredentialsUnreadable: 503,
        JourneyNotFound: 404, RuleConflict: 409, RecordInvalid: 422,
    }  # fmt: skip
    assert {kind: status_of(kind("x")) for kind in expected} == expected
    assert FileTooLarge("x").code == "payload_too_large"
