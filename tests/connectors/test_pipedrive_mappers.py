"""Pipedrive mappers, cursor lanes and webhook checks, by tables."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from crmsync.connectors.base import ChangeKind
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.pipedrive import webhooks
from crmsync.connectors.pipedrive.cursor import ChangeCursor, Lane
from crmsync.connectors.pipedrive.mappers import (
    ENTITIES,
    parse_time,
    to_body,
    to_field_map,
    to_remote_field,
    to_remote_record,
)

KEY = "a" * 40
ENUM = "b" * 40
RAW_FIELDS: list[dict[str, Any]] = [
    {"key": "name", "name": "Name", "field_type": "varchar", "edit_flag": False},
    {"key": "email", "name": "Email", "field_type": "varchar", "edit_flag": False},
    {"key": KEY, "name": "Lead source", "field_type": "varchar", "edit_flag": True},
    {
        "key": ENUM,
        "name": "Tier",
        "field_type": "enum",
        "edit_flag": True,
        "options": [{"id": 1, "label": "Gold"}, {"id": 2, "label": "Silver"}],
    },
    # a label repeating a standard key is reachable by its hash key only
    {"key": "c" * 40, "name": "email", "field_type": "varchar", "edit_flag": True},
]
FIELDS = to_field_map(RAW_FIELDS)
PERSONS, NOTES = ENTITIES["persons"], ENTITIES["notes"]


@pytest.mark.parametrize(
    ("payload", "entity", "body"),
    [
        (
            {"email": "a@x.io", "first_name": "Ann", "last_name": "Lee"},
            PERSONS,
            {
                "emails": [{"value": "a@x.io", "primary": True, "label": "work"}],
                "first_name": "Ann",
                "last_name": "Lee",
                "name": "Ann Lee",
            },
        ),
        (
            {"name": "Bo", "phone": ["1", "2"], "Lead source": "web", "tier": "silver"},
            PERSONS,
            {
                "name": "Bo",
                "phones": [
                    {"value": "1", "primary": True, "label": "work"},
                    {"value": "2", "primary": False, "label": "work"},
                ],
                "custom_fields": {KEY: "web", ENUM: 2},
            },
        ),
        (
            {"id": "7", "name": "X", KEY: "direct"},
            PERSONS,
            {"name": "X", "custom_fields": {KEY: "direct"}},
        ),
        (
            {"content": "hi", "person_id": 3, KEY: "v"},
            NOTES,
            {"content": "hi", "person_id": 3, KEY: "v"},
        ),
    ],
)
def test_to_body(payload: dict[str, Any], entity: Any, body: dict[str, Any]) -> None:
    assert to_body(payload, entity, FIELDS) == body


def test_field_map_resolves_labels_but_not_ones_shadowing_standard_keys() -> None:
    assert FIELDS.key_of("lead SOURCE") == KEY
    assert FIELDS.key_of("email") is None
    assert FIELDS.key_of("c" * 40) == "c" * 40
    assert (FIELDS.show(ENUM, 1), FIELDS.show(ENUM, "1,2"), FIELDS.show(ENUM, [2])) == (
        "Gold",
        ["Gold", "Silver"],
        ["Silver"],
    )
    assert (FIELDS.store(ENUM, "GOLD"), FIELDS.store(ENUM, ["silver"]), FIELDS.store(KEY, "x")) == (
        1,
        [2],
        "x",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"key": "name", "name": "Name", "field_type": "varchar", "mandatory_flag": True},
            ("string", True, False, ()),
        ),
        (RAW_FIELDS[3], ("enumeration", False, True, ("Gold", "Silver"))),
        ({"key": "value", "name": "Value", "field_type": "monetary"}, ("number", False, False, ())),
        ({"key": "org_id", "name": "Org", "field_type": "org"}, ("reference", False, False, ())),
    ],
)
def test_to_remote_field(raw: dict[str, Any], expected: tuple[Any, ...]) -> None:
    field = to_remote_field(raw)
    assert (field.type, field.required, field.custom, field.options) == expected
    assert field.name == raw["key"]


def test_v2_record_flattens_arrays_and_custom_fields_by_key_and_label() -> None:
    record = to_remote_record(
        {
            "id": 5,
            "name": "Ann",
            "emails": [{"value": "b@x.io", "primary": False}, {"value": "a@x.io", "primary": True}],
            "phones": [],
            "custom_fields": {KEY: "web", ENUM: 2, "c" * 40: "shadow"},
            "update_time": "2026-01-02T03:04:05Z",
            "is_deleted": False,
        },
        FIELDS,
    )
    assert record.remote_id == "5" and not record.archived
    props = record.properties
    assert (props["email"], props["phone"], props[KEY], props["Lead source"]) == (
        "a@x.io",
        None,
        "web",
        "web",
    )
    assert (props[ENUM], props["Tier"], props["c" * 40]) == ("Silver", "Silver", "shadow")
    assert "email" in props and props["email"] != "shadow"
    assert record.modified_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_v1_record_takes_reference_ids_flat_custom_keys_and_active_flag() -> None:
    record = to_remote_record(
        {
            "id": 9,
            "org_id": {"value": 3, "name": "Acme"},
            KEY: "flat",
            "active_flag": False,
            "update_time": "2026-01-02 03:04:05",
        },
        FIELDS,
    )
    assert record.properties["org_id"] == 3 and record.properties["Lead source"] == "flat"
    assert record.archived
    assert record.modified_at == parse_time("2026-01-02T03:04:05Z")


@pytest.mark.parametrize(
    ("lane", "rows", "page", "after", "fresh"),
    [
        # a newer second: the lane moves there and remembers who it saw at it
        (Lane(10), [("1", 10, "a"), ("2", 11, "b")], None, Lane(11, {"2": "b"}), ["1", "2"]),
        # the same record and content at the boundary is not delivered again ...
        (Lane(11, {"2": "b"}), [("2", 11, "b")], None, Lane(11, {"2": "b"}), []),
        # ... but a change within the same second is
        (Lane(11, {"2": "b"}), [("2", 11, "c")], None, Lane(11, {"2": "c"}), ["2"]),
        # a full page at one second keeps the provider's page token
        (
            Lane(11, {"2": "b"}),
            [("3", 11, "d")],
            "tok",
            Lane(11, {"2": "b", "3": "d"}, "tok"),
            ["3"],
        ),
        (Lane(11, {"2": "b"}, "tok"), [], None, Lane(11, {"2": "b"}), []),
    ],
)
def test_lane(lane: Lane, rows: list[Any], page: str | None, after: Lane, fresh: list[str]) -> None:
    assert [r[0] for r in lane.fresh(rows)] == fresh
    assert lane.advance(rows, page) == after


def test_cursor_round_trips_and_starts_deletions_where_told() -> None:
    cursor = ChangeCursor(Lane(5, {"1": "x"}, "p"), Lane(7))
    assert ChangeCursor.decode(cursor.encode()) == cursor
    fresh = ChangeCursor.decode(None, deletions_start=99)
    assert (fresh.records, fresh.deletions) == (Lane(0), Lane(99))


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    ("headers", "ok"),
    [
        (_basic("crmsync", "pw"), True),
        ({"authorization": webhooks.basic_header("crmsync", "pw")}, True),
        (_basic("crmsync", "pw2"), False),
        (_basic("other", "pw"), False),
        ({"Authorization": "Bearer pw"}, False),
        ({"Authorization": "Basic !!!"}, False),
        ({}, False),
    ],
)
def test_verify_basic(headers: dict[str, str], ok: bool) -> None:
    assert webhooks.verify_basic(headers, "crmsync", Secret("pw")) is ok


V2_META = {
    "entity_id": "4",
    "id": "ev-1",
    "timestamp": "2026-01-02T03:04:05.123Z",
    "version": "2.0",
}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            {"meta": {**V2_META, "action": "create", "entity": "person"}, "data": {"id": 4}},
            ("contacts", "4", ChangeKind.CREATED, None),
        ),
        (
            {"meta": {**V2_META, "action": "change", "entity": "deal"}, "data": {"id": 4}},
            ("deals", "4", ChangeKind.UPDATED, None),
        ),
        (
            {
                "meta": {**V2_META, "action": "delete", "entity": "person"},
                "data": None,
                "previous": {"id": 4},
            },
            ("contacts", "4", ChangeKind.DELETED, None),
        ),
        (
            {
                "meta": {**V2_META, "action": "delete", "entity": "person"},
                "data": None,
                "previous": {"id": 4, "merged_to_id": 2},
            },
            ("contacts", "4", ChangeKind.MERGED, "2"),
        ),
        (
            {
                "v": 1,
                "event": "added.organization",
                "meta": {
                    "action": "added",
                    "object": "organization",
                    "id": 4,
                    "timestamp": 1767323045,
                    "webhook_id": "3",
                },
                "current": {"id": 4},
            },
            ("companies", "4", ChangeKind.CREATED, None),
        ),
        (
            {
                "v": 1,
                "event": "deleted.person",
                "meta": {"action": "deleted", "object": "person", "id": 4, "timestamp": 1767323045},
                "current": None,
                "previous": {"id": 4, "merged_to_id": 9},
            },
            ("contacts", "4", ChangeKind.MERGED, "9"),
        ),
    ],
)
def test_parse_v2_and_v1(event: dict[str, Any], expected: tuple[Any, ...]) -> None:
    changes = webhooks.parse(orjson.dumps(event))
    assert len(changes) == 1
    change = changes[0]
    assert (change.object_type, change.remote_id, change.kind, change.merged_into) == expected
    assert change.event_id and change.occurred_at is not None


def test_parse_ignores_unknown_entities_and_actions() -> None:
    unknown = {"meta": {**V2_META, "action": "create", "entity": "product"}, "data": {}}
    assert webhooks.parse(orjson.dumps(unknown)) == []
    assert webhooks.parse(b"[1, 2]") == []
