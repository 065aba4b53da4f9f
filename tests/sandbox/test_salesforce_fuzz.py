"""Whatever a client sends, the Salesforce sandbox answers in Salesforce's shapes and
never with a crash (500)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.sandbox.app import build_app
from crmsync.sandbox.salesforce import Sandbox

SANDBOX = Sandbox()
APP = build_app(SANDBOX)
SEEDED = SANDBOX.org.store.create(
    "Account", {"Name": "Seed", "External_Id__c": "s-1"}, SANDBOX.org.api_user
)["Id"]

_SEGMENTS = st.sampled_from(
    [
        "Account",
        "Contact",
        "Lead",
        "Widget",
        "External_Id__c",
        "Legacy_Id__c",
        "Name",
        "s-1",
        SEEDED,
        SEEDED[:15],
        "003000000000000AAA",
        "describe",
        "updated",
        "deleted",
        "x",
        "",
    ]
)
_PATHS = st.one_of(
    st.builds(lambda a: f"/services/data/v59.0/sobjects/{a}", _SEGMENTS),
    st.builds(lambda a, b: f"/services/data/v59.0/sobjects/{a}/{b}", _SEGMENTS, _SEGMENTS),
    st.builds(
        lambda a, b, c: f"/services/data/v45.0/sobjects/{a}/{b}/{c}",
        _SEGMENTS,
        _SEGMENTS,
        _SEGMENTS,
    ),
    st.builds(
        lambda a, b: f"/services/data/v59.0/composite/sobjects/{a}/{b}", _SEGMENTS, _SEGMENTS
    ),
    st.just("/services/data/v59.0/composite/sobjects"),
    st.just("/services/data/v59.0/query/01g8c0000000001AAA-200"),
    st.sampled_from(["/services/data/v59.0/query", "/services/data/v59.0/queryAll"]),
)
_JSON: Any = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
    | st.sampled_from(["2026-01-01", "2026-01-01T00:00:00Z", SEEDED]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Name",
                    "LastName",
                    "records",
                    "attributes",
                    "type",
                    "id",
                    "AccountId",
                    "allOrNone",
                    "Email",
                    "Birthdate",
                    "NumberOfEmployees",
                    "IsDeleted",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


async def _send(method: str, path: str, body: bytes, params: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=APP)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        return await client.request(
            method,
            path,
            content=body,
            params=params,
            headers={"Authorization": f"Bearer {SANDBOX.org.tokens.default_token}"},
        )


@given(
    st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT"]),
    _PATHS,
    _JSON,
    st.dictionaries(
        st.sampled_from(["ids", "fields", "start", "end", "q", "allOrNone"]),
        st.sampled_from(
            [
                "",
                "Name",
                "x,y",
                SEEDED,
                "2026-01-01T00:00:00Z",
                "true",
                "SELECT Id FROM Account",
                "SELECT Name, Owner.Name FROM Account WHERE Name LIKE 'S%'",
                "SELECT COUNT() FROM Contact WHERE Account.Name = null",
                "SELECT Id FROM Account WHERE CreatedDate > 2026-02-30T00:00:00Z",
            ]
        ),
        max_size=2,
    ),
)
@settings(max_examples=200, deadline=None)
def test_every_answer_is_salesforce_shaped(
    method: str, path: str, body: Any, params: dict[str, str]
) -> None:
    answer = asyncio.run(_send(method, path, orjson.dumps(body), params))

    assert answer.status_code < 500, answer.text
    assert "Sforce-Limit-Info" in answer.headers
    if answer.status_code >= 400:
        errors = answer.json()
        assert isinstance(errors, list) and errors
        assert all(isinstance(e.get("errorCode"), str) for e in errors)
