"""HubSpot mappers, by tables of input and expected output."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crmsync.connectors.base import ChangeKind, RemoteChange, RemoteField, RemoteRecord
from crmsync.connectors.hubspot.mappers import (
    field_times,
    parse_time,
    to_batch_input,
    to_changes,
    to_deletion,
    to_remote_field,
    to_remote_record,
)

T = datetime(2024, 7, 26, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-07-26T04:00:00.000Z", T),
        ("2024-07-26T04:00:00Z", T),
        ("2024-07-26T06:00:00+02:00", T),
        ("1721966400000", T),
        (1721966400000, T),
        ("", None),
        (None, None),
    ],
)
def test_parse_time(raw: Any, expected: datetime | None) -> None:
    assert parse_time(raw) == expected


@pytest.mark.parametrize(
    ("obj", "field", "expected"),
    [
        (
            {
                "id": "51",
                "properties": {"email": "a@x.com", "lastmodifieddate": "2024-07-26T04:00:00Z"},
                "archived": False,
            },
            "lastmodifieddate",
            RemoteRecord(
                "51", {"email": "a@x.com", "lastmodifieddate": "2024-07-26T04:00:00Z"}, T, False
            ),
        ),
        (  # no modified property requested: updatedAt stands in
            {"id": 7, "properties": {"dealname": "D"}, "updatedAt": "2024-07-26T04:00:00Z"},
            "hs_lastmodifieddate",
            RemoteRecord("7", {"dealname": "D"}, T, False),
        ),
        (
            {"id": "9", "properties": None, "archived": True},
            "hs_lastmodifieddate",
            RemoteRecord("9", {}, None, True),
        ),
    ],
)
def test_to_remote_record(obj: dict[str, Any], field: str, expected: RemoteRecord) -> None:
    assert to_remote_record(obj, field) == expected


def test_to_deletion_prefers_archived_at() -> None:
    obj = {"id": "3", "archivedAt": "2024-07-26T04:00:00Z", "updatedAt": "2020-01-01T00:00:00Z"}
    assert to_deletion(obj).remote_id == "3" and to_deletion(obj).deleted_at == T


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        (
            {
                "name": "email",
                "label": "Email",
                "type": "string",
                "hubspotDefined": True,
                "hasUniqueValue": True,
                "modificationMetadata": {"readOnlyValue": False},
            },
            RemoteField("email", "Email", "string", custom=False, unique=True),
        ),
        (
            {
                "name": "loan_type",
                "label": "Loan type",
                "type": "enumeration",
                "options": [{"value": "fha"}, {"value": "va"}],
            },
            RemoteField(
                "loan_type", "Loan type", "enumeration", custom=True, options=("fha", "va")
            ),
        ),
        (
            {
                "name": "hs_object_id",
                "type": "number",
                "hubspotDefined": True,
                "modificationMetadata": {"readOnlyValue": True},
            },
            RemoteField("hs_object_id", "hs_object_id", "number", read_only=True),
        ),
        (
            {
                "name": "opted_in",
                "label": "Opted in",
                "type": "bool",
                "calculated": True,
                "hubspotDefined": True,
            },
            RemoteField("opted_in", "Opted in", "boolean", read_only=True),
        ),
        (
            {"name": "odd", "label": "Odd", "type": "something_new"},
            RemoteField("odd", "Odd", "string", custom=True),
        ),
    ],
)
def test_to_remote_field(prop: dict[str, Any], expected: RemoteField) -> None:
    assert to_remote_field(prop) == expected


@pytest.mark.parametrize(
    ("payload", "key", "expected"),
    [
        (
            {"email": "a@x.com", "firstname": "A"},
            "email",
            {
                "id": "a@x.com",
                "idProperty": "email",
                "properties": {"email": "a@x.com", "firstname": "A"},
            },
        ),
        (
            {"id": "51", "firstname": "B", "hs_object_id": "51"},
            "email",
            {"id": "51", "properties": {"firstname": "B"}},
        ),
        (
            {"amount": 12.5, "closed": True, "closedate": T, "notes": None},
            None,
            {
                "properties": {
                    "amount": "12.5",
                    "closed": "true",
                    "closedate": "1721966400000",
                    "notes": "",
                }
            },
        ),
    ],
)
def test_to_batch_input(payload: dict[str, Any], key: str | None, expected: dict) -> None:
    assert to_batch_input(payload, key) == expected


EVENT = {"portalId": 62515, "subscriptionId": 12, "eventId": 1, "occurredAt": 1721966400000}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            {**EVENT, "subscriptionType": "contact.creation", "objectId": 123},
            [RemoteChange("contacts", "123", ChangeKind.CREATED, "62515:12:1", T)],
        ),
        (
            {
                **EVENT,
                "subscriptionType": "deal.propertyChange",
                "objectId": 5,
                "propertyName": "dealstage",
                "propertyValue": "won",
            },
            [RemoteChange("deals", "5", ChangeKind.UPDATED, "62515:12:1", T, {"dealstage": "won"})],
        ),
        (
            {**EVENT, "subscriptionType": "company.deletion", "objectId": 8},
            [RemoteChange("companies", "8", ChangeKind.DELETED, "62515:12:1", T)],
        ),
        (
            {
                **EVENT,
                "subscriptionType": "contact.merge",
                "objectId": 1,
                "primaryObjectId": 1,
                "mergedObjectIds": [2, 3],
            },
            [
                RemoteChange(
                    "contacts", "2", ChangeKind.MERGED, "62515:12:1:2", T, merged_into="1"
                ),
                RemoteChange(
                    "contacts", "3", ChangeKind.MERGED, "62515:12:1:3", T, merged_into="1"
                ),
            ],
        ),
        (
            {**EVENT, "subscriptionType": "contact.restore", "objectId": 4},
            [RemoteChange("contacts", "4", ChangeKind.RESTORED, "62515:12:1", T)],
        ),
        ({**EVENT, "subscriptionType": "widget.creation", "objectId": 4}, []),
        ({**EVENT, "subscriptionType": "contact.somethingElse", "objectId": 4}, []),
    ],
)
def test_to_changes(event: dict[str, Any], expected: list[RemoteChange]) -> None:
    assert to_changes([event]) == expected


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        # the newest entry dates the shown value
        (
            {
                "firstname": [
                    {"value": "B", "timestamp": "2026-01-02T00:00:00Z"},
                    {"value": "A", "timestamp": "2026-01-01T00:00:00Z"},
                ]
            },
            {"firstname": datetime(2026, 1, 2, tzinfo=UTC)},
        ),
        # a history that does not end in the shown value dates nothing
        ({"firstname": [{"value": "A", "timestamp": "2026-01-01T00:00:00Z"}]}, {}),
        ({"firstname": []}, {}),
    ],
)
def test_field_times_from_history(history: dict[str, Any], expected: dict[str, datetime]) -> None:
    obj = {"id": "1", "properties": {"firstname": "B"}, "propertiesWithHistory": history}
    assert field_times(obj) == expected
    assert field_times({"id": "1", "properties": {}}) is None
