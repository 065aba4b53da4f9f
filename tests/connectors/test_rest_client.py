"""The HTTP side of a definition: auth kinds, rate profile and error text."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from crmsync.connectors.errors import ConfigError, InvalidRecord, NotFound
from crmsync.connectors.registry import ConnectorContext
from crmsync.connectors.rest.client import build_auth, error_hook, rate_profile
from crmsync.connectors.rest.definition import builtin, load


def definition(auth: dict[str, Any], **extra: Any) -> Any:
    endpoints = {k: f"{m} /x" for k, m in (("list", "GET"), ("create", "POST"))}
    endpoints |= {"update": "PATCH /x/{id}", "delete": "DELETE /x/{id}"}
    return load(
        {"name": "t", "auth": auth, "defaults": {"endpoints": endpoints}, "objects": {"x": {}}}
        | extra
    )


def context(credentials: dict[str, str]) -> ConnectorContext:
    return ConnectorContext(uuid.uuid4(), uuid.uuid4(), "https://crm.example.com", credentials)


def sent(auth: httpx.Auth) -> httpx.Request:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        client.get("https://crm.example.com/x")
    return seen[0]


@pytest.mark.parametrize(
    ("auth", "credentials", "header", "value", "query"),
    [
        ({"kind": "api_key_header", "name": "X-Key"}, {"api_key": "k1"}, "x-key", "k1", ""),
        ({"kind": "api_key_query", "name": "token"}, {"api_key": "k2"}, "x-key", None, "token=k2"),
        ({"kind": "bearer", "credential": "tok"}, {"tok": "t3"}, "authorization", "Bearer t3", ""),
        (
            {"kind": "basic", "username": "user", "password": "pw"},
            {"user": "u", "pw": "p"},
            "authorization",
            "Basic dTpw",
            "",
        ),
    ],
)
def test_each_auth_kind_puts_the_credential_where_the_definition_says(
    auth: dict[str, Any],
    credentials: dict[str, str],
    header: str,
    value: str | None,
    query: str,
) -> None:
    request = sent(build_auth(definition(auth), context(credentials)))
    assert request.headers.get(header) == value
    assert request.url.query.decode() == query


def test_a_missing_credential_names_it_and_the_auth_kind() -> None:
    with pytest.raises(ConfigError, match="credentials need 'pw' \\(auth kind basic"):
        build_auth(definition({"kind": "basic", "password": "pw"}), context({"username": "u"}))


def test_the_rate_profile_is_the_named_one_else_the_definitions_own() -> None:
    generic = builtin("generic")
    own = rate_profile(generic, None)
    assert [(b.limit, b.period) for b in own.effective()] == [(588, 60)]
    assert rate_profile(generic, "unlimited").budgets == ()
    with pytest.raises(ConfigError, match="unknown rate profile 'nope'"):
        rate_profile(generic, "nope")


def test_error_answers_keep_their_class_and_read_the_message_where_the_definition_says() -> None:
    hook = error_hook(builtin("generic"))
    refused = httpx.Response(
        400,
        json={
            "error": {
                "code": "validation_error",
                "message": "invalid fields",
                "details": [{"field": "email", "message": "not a valid email address"}],
            }
        },
    )
    error = hook(refused)
    assert isinstance(error, InvalidRecord)
    assert error.message == "invalid fields: email: not a valid email address"
    assert error.code == "validation_error"
    missing = hook(httpx.Response(404, json={"error": {"code": "not_found", "message": "gone"}}))
    assert isinstance(missing, NotFound) and missing.message == "gone"
    assert hook(httpx.Response(429, json={})) is None  # the layer waits Retry-After
    assert hook(httpx.Response(200, json={})) is None
