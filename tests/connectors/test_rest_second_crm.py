"""A second CRM with another wire shape needs only a definition, no connector code.

"Tiny CRM" (an in-memory fake behind an injected transport) differs from the generic
REST CRM in every dimension a definition covers: bearer auth, ``PUT`` updates, no upsert
endpoint (the connector finds by key, then writes), page-number pagination, epoch-ms
``since``, records in a bare JSON list, no deletions in polls, its own error shape.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest

from crmsync.connectors.base import Outcome
from crmsync.connectors.errors import AuthError, ConfigError, InvalidRecord
from crmsync.connectors.registry import ConnectorContext
from crmsync.connectors.rest.connector import RestConnector, for_definition

TINY = """
name: tiny
auth: {kind: bearer, credential: access_token}
record: {id: uid, modified: changed_ms}
changes:
  since_param: changed_after
  since_format: epoch_ms
  records: ""
  pagination: {style: page, param: p, limit_param: per_page, page_size: 2}
errors: {message: problem}
defaults:
  endpoints:
    list: GET /people
    find: GET /people?ref={key}
    create: POST /people
    update: PUT /people/{id}
    delete: DELETE /people/{id}
  upsert_key: ref
  fields:
    ref: ref
    name: {wire: full_name, label: Full name}
objects:
  people: {}
"""
TOKEN = "tiny-token"


class TinyCrm:
    """Just enough of a CRM: people with ``uid``, ``ref``, ``full_name``, ``changed_ms``."""

    def __init__(self) -> None:
        self.people: dict[str, dict[str, Any]] = {}
        self.clock = 1_795_000_000_000  # epoch ms
        self.calls: list[str] = []

    def answer(self, status: int, body: Any = None) -> httpx.Response:
        return httpx.Response(status, content=orjson.dumps(body) if body is not None else b"")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return self.answer(401, {"problem": "who are you"})
        parts = request.url.path.strip("/").split("/")
        body = orjson.loads(request.content) if request.content else {}
        if "full_name" in body and not body["full_name"]:
            return self.answer(422, {"problem": "full_name must not be empty"})
        self.clock += 1
        if request.method == "POST":
            uid = f"p{len(self.people) + 1}"
            self.people[uid] = {**body, "uid": uid, "changed_ms": self.clock}
            return self.answer(201, self.people[uid])
        if len(parts) == 2:
            person = self.people.get(parts[1])
            if person is None:
                return self.answer(404, {"problem": "no such person"})
            if request.method == "DELETE":
                del self.people[parts[1]]
                return self.answer(204)
            person.update(body, changed_ms=self.clock)
            return self.answer(200, person)
        return self.answer(200, self.listing(request.url.params))

    def listing(self, params: httpx.QueryParams) -> list[dict[str, Any]]:
        found = sorted(self.people.values(), key=lambda p: (p["changed_ms"], p["uid"]))
        if "ref" in params:
            return [p for p in found if p.get("ref") == params["ref"]]
        found = [p for p in found if p["changed_ms"] >= int(params.get("changed_after", 0))]
        size, page = int(params["per_page"]), int(params["p"])
        return found[(page - 1) * size : page * size]


def tiny(crm: TinyCrm, token: str = TOKEN) -> RestConnector:
    context = ConnectorContext(
        uuid.uuid4(),
        uuid.uuid4(),
        "https://tiny.example.com",
        {"access_token": token},
        rate_profile="unlimited",
        transport=httpx.MockTransport(crm),
    )
    built = for_definition(TINY)(context)
    assert isinstance(built, RestConnector)
    return built


def poll(connector: RestConnector, cursor: str | None) -> tuple[list[str], str | None]:
    ids: list[str] = []
    while True:
        page = connector.changes("people", cursor)
        ids += [r.remote_id for r in page.records]
        cursor = page.next_cursor
        if not page.has_more:
            return ids, cursor


def test_writes_find_by_key_then_create_or_update() -> None:
    crm = TinyCrm()
    connector = tiny(crm)
    rows = [{"ref": "a", "name": "Ada"}, {"ref": "b", "name": ""}, {"name": "No ref"}]
    first = connector.upsert("people", rows, "ref")
    assert [r.outcome for r in first] == [Outcome.CREATED, Outcome.ERROR, Outcome.CREATED]
    assert isinstance(first[1].error, InvalidRecord)
    assert first[1].error.message == "full_name must not be empty"
    again = connector.upsert("people", [{"ref": "a", "name": "Ada L."}], "ref")[0]
    assert again.outcome is Outcome.UPDATED and again.remote_id == first[0].remote_id
    assert crm.people[str(first[0].remote_id)]["full_name"] == "Ada L."
    assert len(crm.people) == 2
    assert "PUT /people/p1" in crm.calls


def test_polling_pages_by_number_and_resumes_after_the_last_change() -> None:
    crm = TinyCrm()
    connector = tiny(crm)
    made = connector.upsert("people", [{"ref": str(n), "name": f"P{n}"} for n in range(5)], "ref")
    ids, cursor = poll(connector, None)
    assert ids == [str(r.remote_id) for r in made]
    connector.upsert("people", [{"ref": "3", "name": "Changed"}], "ref")
    changed, cursor = poll(connector, cursor)
    assert changed == [str(made[3].remote_id)]
    assert poll(connector, cursor)[0] == []
    capabilities = connector.capabilities.of("people")
    assert capabilities.upsert_keys == ("ref",) and not capabilities.reports_deletions


def test_describe_proves_the_token_and_lists_declared_fields() -> None:
    crm = TinyCrm()
    assert [f.name for f in tiny(crm).describe("people")] == ["ref", "name"]
    with pytest.raises(AuthError, match="who are you"):
        tiny(crm, token="wrong").describe("people")


def test_missing_credentials_and_unknown_match_keys_are_config_errors() -> None:
    crm = TinyCrm()
    with pytest.raises(ConfigError, match="credentials need 'access_token'"):
        tiny(crm, token="")
    with pytest.raises(ConfigError, match="upsert keys: ref"):
        tiny(crm).upsert("people", [{"name": "x"}], "email")
