"""The pure mappers, cursor and paging of the declarative connector, by tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crmsync.connectors.rest.cursor import PollCursor
from crmsync.connectors.rest.definition import FieldSpec, Pagination, builtin
from crmsync.connectors.rest.paging import next_page, page_params
from crmsync.connectors.rest.wire import (
    dig,
    parse_time,
    to_deletion,
    to_properties,
    to_record,
    to_remote_fields,
    to_wire,
    wire_time,
)

GENERIC = builtin("generic")
CONTACTS = GENERIC.object("contacts")
WIRE = {
    "id": "ct_000001",
    "externalReference": "r-1",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "customFields": {"tier": "gold"},
    "updatedAt": "2026-11-23T15:00:00.250Z",
    "version": 3,
    "deleted": True,
    "deletedAt": "2026-11-23T15:00:01.000Z",
}


@pytest.mark.parametrize(
    ("body", "path", "expected"),
    [
        ({"a": {"b": 1}}, "a.b", 1),
        ({"a": {"b": 1}}, "a.c", None),
        ({"a": 1}, "a.b", None),
        ([1, 2], "", [1, 2]),
    ],
)
def test_dig(body: Any, path: str, expected: Any) -> None:
    assert dig(body, path) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-23T15:00:00.250Z", dt.datetime(2026, 11, 23, 15, 0, 0, 250000, dt.UTC)),
        ("2026-11-23T15:00:00", dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC)),
        (1_795_000_000_000, dt.datetime.fromtimestamp(1_795_000_000, dt.UTC)),
        ("1795000000", dt.datetime.fromtimestamp(1_795_000_000, dt.UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_time(value: Any, expected: dt.datetime | None) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("iso8601", "2026-11-23T15:00:00.250Z"),
        ("epoch_ms", "1795446000250"),
        ("epoch_s", "1795446000"),
    ],
)
def test_wire_time(style: str, expected: str) -> None:
    moment = dt.datetime(2026, 11, 23, 15, 0, 0, 250000, dt.UTC)
    assert wire_time(moment, style) == expected


def test_payloads_go_out_in_wire_names_and_dot_paths_nest() -> None:
    tier = FieldSpec(wire="customFields.tier")
    spec = CONTACTS.model_copy(update={"fields": {**CONTACTS.fields, "tier": tier}})
    payload = {"id": "ct_1", "firstname": "Ada", "tier": "gold", "undeclared": 1}
    assert to_wire(payload, spec) == {
        "firstName": "Ada",
        "customFields": {"tier": "gold"},
        "undeclared": 1,
    }


def test_records_come_back_in_property_names_with_id_and_times_apart() -> None:
    record = to_record(WIRE, CONTACTS, GENERIC)
    assert record.remote_id == "ct_000001"
    assert record.archived is True
    assert record.modified_at == dt.datetime(2026, 11, 23, 15, 0, 0, 250000, dt.UTC)
    assert record.properties == {
        "externalReference": "r-1",
        "firstname": "Ada",
        "lastname": "Lovelace",
        "customFields": {"tier": "gold"},
        "version": 3,
    }
    assert to_properties({"id": "x", "firstName": None}, CONTACTS, GENERIC) == {"firstname": None}


def test_a_deletion_takes_its_time_from_the_deletion_field() -> None:
    deletion = to_deletion(WIRE, GENERIC)
    assert deletion.remote_id == "ct_000001"
    assert deletion.deleted_at == dt.datetime(2026, 11, 23, 15, 0, 1, tzinfo=dt.UTC)


def test_describe_lists_declared_fields_then_unknown_ones_seen_as_custom() -> None:
    fields = to_remote_fields(CONTACTS, [WIRE], GENERIC)
    by_name = {f.name: f for f in fields}
    assert by_name["firstname"].label == "First name" and not by_name["firstname"].custom
    assert by_name["externalReference"].unique
    assert by_name["customFields"].custom and by_name["version"].custom
    assert "id" not in by_name and "deleted" not in by_name


PAGE = Pagination(style="page", param="page", page_size=2)
OFFSET = Pagination(style="offset", param="offset", page_size=2)
CURSOR = Pagination(style="cursor", param="cursor", next="meta.next", page_size=2)
LINK = Pagination(style="next_link", next="links.next", page_size=2)


@pytest.mark.parametrize(
    ("pagination", "page", "params", "link"),
    [
        (PAGE, None, {"limit": "2", "page": "1"}, None),
        (PAGE, "3", {"limit": "2", "page": "3"}, None),
        (OFFSET, None, {"limit": "2", "offset": "0"}, None),
        (CURSOR, None, {"limit": "2"}, None),
        (CURSOR, "abc", {"limit": "2", "cursor": "abc"}, None),
        (LINK, None, {"limit": "2"}, None),
        (LINK, "https://crm.example.com/v1/x?p=2", {}, "https://crm.example.com/v1/x?p=2"),
    ],
)
def test_page_params(
    pagination: Pagination, page: str | None, params: dict[str, str], link: str | None
) -> None:
    assert page_params(pagination, page) == (params, link)


@pytest.mark.parametrize(
    ("pagination", "page", "body", "count", "expected"),
    [
        (PAGE, None, {}, 2, "2"),
        (PAGE, "2", {}, 1, None),
        (OFFSET, "4", {}, 2, "6"),
        (CURSOR, None, {"meta": {"next": "n1"}}, 2, "n1"),
        (CURSOR, "n1", {"meta": {"next": None}}, 2, None),
        (LINK, None, {"links": {"next": "https://x/2"}}, 2, "https://x/2"),
    ],
)
def test_next_page(
    pagination: Pagination, page: str | None, body: Any, count: int, expected: str | None
) -> None:
    assert next_page(pagination, page, body, count) == expected


def test_the_cursor_moves_since_only_at_the_end_of_a_listing() -> None:
    start = PollCursor()
    middle = start.after_page([("a", 10), ("b", 20)], "p2")
    assert (middle.since, middle.page, middle.high) == (None, "p2", 20)
    done = middle.after_page([("c", 20)], None)
    assert done == PollCursor(since=20, seen=("b", "c"))
    assert PollCursor.decode(done.encode()) == done


def test_the_cursor_skips_only_records_already_seen_at_since() -> None:
    cursor = PollCursor(since=20, seen=("b",))
    assert cursor.fresh([("b", 20), ("c", 20), ("b", 21)]) == ["c", "b"]
    quiet = cursor.after_page([("b", 20)], None)
    assert quiet == PollCursor(since=20, seen=("b",))
    assert cursor.after_page([], None) == cursor
