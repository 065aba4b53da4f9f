"""Classification of responses into the error classes, by table."""

from __future__ import annotations

import httpx
import pytest

from crmsync.connectors.errors import (
    Action,
    AuthError,
    ConfigError,
    ConnectorError,
    InvalidRecord,
    NotFound,
    RateLimited,
    Transient,
    classify,
    error_message,
)
from crmsync.connectors.providers import get


def _response(
    status: int, body: object = None, headers: dict[str, str] | None = None, text: str | None = None
) -> httpx.Response:
    request = httpx.Request("GET", "https://api.example.com/x")
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


GENERIC = [
    (200, {"id": "1"}, None),
    (201, {"id": "1"}, None),
    (204, None, None),
    (207, {"status": "COMPLETE"}, None),
    (400, {"message": "bad email"}, InvalidRecord),
    (401, {"message": "nope"}, AuthError),
    (403, {"message": "forbidden"}, ConfigError),
    (404, {"message": "gone"}, NotFound),
    (409, {"message": "conflict"}, InvalidRecord),
    (410, {"message": "gone"}, NotFound),
    (415, {"error": "json only"}, ConfigError),
    (422, {"error": "Unable to find target"}, InvalidRecord),
    (429, {"message": "slow down"}, RateLimited),
    (500, {"message": "oops"}, Transient),
    (502, None, Transient),
    (503, None, Transient),
    (504, None, Transient),
    (418, {"code": "418 I'm a teapot"}, InvalidRecord),
    (302, None, ConfigError),
]


@pytest.mark.parametrize(("status", "body", "expected"), GENERIC)
def test_status_table(status: int, body: object, expected: type[ConnectorError] | None) -> None:
    error = classify(_response(status, body))
    if expected is None:
        assert error is None
    else:
        assert type(error) is expected
        assert error is not None and error.status == status


PROVIDER = [
    # Salesforce reports its daily quota as 403 and sessions in the body
    (
        "salesforce",
        403,
        [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
        RateLimited,
        3600.0,
    ),
    (
        "salesforce",
        403,
        [
            {
                "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                "errorCode": "REQUEST_LIMIT_EXCEEDED",
            }
        ],
        RateLimited,
        30.0,
    ),
    (
        "salesforce",
        401,
        [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
        AuthError,
        None,
    ),
    (
        "salesforce",
        400,
        [{"message": "Name missing", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["Name"]}],
        InvalidRecord,
        None,
    ),
    ("salesforce", 404, [{"errorCode": "NOT_FOUND", "message": "does not exist"}], NotFound, None),
    ("salesforce", 400, [{"errorCode": "INVALID_TYPE", "message": "sObject"}], ConfigError, None),
    ("salesforce", 300, ["/services/data/v59.0/sobjects/Contact/003A"], InvalidRecord, None),
    (
        "salesforce",
        400,
        {"error": "invalid_grant", "error_description": "expired"},
        AuthError,
        None,
    ),
    ("hubspot", 477, {"message": "migration in progress"}, Transient, None),
    ("hubspot", 403, {"category": "MISSING_SCOPES", "message": "scopes"}, AuthError, None),
    (
        "hubspot",
        429,
        {
            "errorType": "RATE_LIMIT",
            "policyName": "DAILY",
            "message": "You have reached your daily limit.",
        },
        RateLimited,
        3600.0,
    ),
    (
        "hubspot",
        429,
        {"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING", "message": "secondly"},
        RateLimited,
        10.0,
    ),
    ("hubspot", 400, {"category": "VALIDATION_ERROR", "message": "x"}, InvalidRecord, None),
    ("totalexpert", 400, {"error": "invalid_client", "error_description": "bad"}, AuthError, None),
    ("totalexpert", 401, {"error": "insufficient_scope"}, AuthError, None),
    ("totalexpert", 400, {"error": "malformed JSON"}, InvalidRecord, None),
]


@pytest.mark.parametrize(("provider", "status", "body", "expected", "wait"), PROVIDER)
def test_provider_hooks(
    provider: str, status: int, body: object, expected: type[ConnectorError], wait: float | None
) -> None:
    error = classify(_response(status, body), get(provider).error_hooks)
    assert type(error) is expected
    if wait is not None:
        assert isinstance(error, RateLimited)
        assert error.retry_after == wait


def test_pipedrive_edge_block_html_403_waits() -> None:
    response = _response(
        403, text="<html>Attention Required</html>", headers={"content-type": "text/html"}
    )
    error = classify(response, get("pipedrive").error_hooks)
    assert isinstance(error, RateLimited)
    assert error.retry_after > 0


def test_rate_limited_takes_the_wait_read_from_headers() -> None:
    error = classify(_response(429, {}), retry_after=7.5)
    assert isinstance(error, RateLimited)
    assert error.retry_after == 7.5


def test_actions_follow_the_class() -> None:
    assert AuthError("x").action is Action.GIVE_UP
    assert ConfigError("x").action is Action.GIVE_UP
    assert InvalidRecord("x").action is Action.SKIP_RECORD
    assert NotFound("x").action is Action.RELINK
    assert RateLimited("x", retry_after=1).action is Action.WAIT
    assert Transient("x").action is Action.RETRY


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "bad email"}, "bad email"),
        ([{"message": "Session expired", "errorCode": "X"}], "Session expired"),
        (
            {"error": "invalid_client", "error_description": "credentials invalid"},
            "credentials invalid",
        ),
        ({"success": False, "error": "unauthorized access"}, "unauthorized access"),
        (None, "HTTP 500 Internal Server Error"),
    ],
)
def test_error_message_reads_each_body_shape(body: object, expected: str) -> None:
    assert error_message(_response(500 if body is None else 400, body)) == expected


def test_error_message_is_capped() -> None:
    assert len(error_message(_response(400, {"message": "x" * 5000}))) == 300
