"""Salesforce's JSON to the contract's values and back, by tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from crmsync.connectors.base import Outcome
from crmsync.connectors.errors import ConfigError, InvalidRecord, NotFound
from crmsync.connectors.salesforce.mappers import (
    ApiUsage,
    format_datetime,
    parse_datetime,
    parse_limit_info,
    save_result,
    to_remote_field,
    to_remote_record,
    to_sf_value,
    with_type,
)
from crmsync.connectors.salesforce.soql import changed_since, matching, quote

STAMP = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-05T09:00:00.000+0000", STAMP),
        ("2026-01-05T10:00:00.000+0100", STAMP),
        ("2026-01-05T09:00:00Z", STAMP),
        ("2026-01-05T09:00:00", STAMP),
        ("", None),
        (None, None),
        ("yesterday", None),
    ],
)
def test_parse_datetime(text: Any, expected: datetime | None) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (STAMP, "2026-01-05T09:00:00.000+0000"),
        (datetime(2026, 1, 5, 9, 0), "2026-01-05T09:00:00.000+0000"),
        (date(2026, 1, 5), "2026-01-05"),
        (Decimal("12.50"), 12.5),
        (["North", "South"], "North;South"),
        ("text", "text"),
        (None, None),
        (True, True),
    ],
)
def test_to_sf_value(value: Any, expected: Any) -> None:
    assert to_sf_value(value) == expected


def test_with_type_adds_attributes_and_drops_named_fields_in_any_case() -> None:
    record = with_type(
        "Contact", {"id": "003", "LastName": "Doe", "Day": date(2026, 1, 5)}, drop=["Id"]
    )
    assert record == {"attributes": {"type": "Contact"}, "LastName": "Doe", "Day": "2026-01-05"}


def test_format_datetime_is_an_unquoted_utc_literal() -> None:
    assert format_datetime(datetime(2026, 1, 5, 10, 0, 30, 999, tzinfo=UTC)) == (
        "2026-01-05T10:00:30Z"
    )


_BASE = {"name": "X", "label": "X", "createable": True, "updateable": True, "nillable": True}


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ({**_BASE, "type": "string"}, ("string", False, False, False, False, ())),
        ({**_BASE, "type": "email", "nillable": False}, ("string", True, False, False, False, ())),
        (
            {**_BASE, "type": "string", "nillable": False, "defaultedOnCreate": True},
            ("string", False, False, False, False, ()),
        ),
        ({**_BASE, "type": "double", "custom": True}, ("number", False, True, False, False, ())),
        (
            {**_BASE, "type": "id", "createable": False, "updateable": False},
            ("string", False, False, True, True, ()),
        ),
        (
            {
                **_BASE,
                "type": "picklist",
                "picklistValues": [
                    {"value": "Open", "active": True},
                    {"value": "Old", "active": False},
                ],
            },
            ("enumeration", False, False, False, False, ("Open",)),
        ),
        ({**_BASE, "type": "string", "unique": True}, ("string", False, False, False, True, ())),
        ({**_BASE, "type": "reference"}, ("reference", False, False, False, False, ())),
        ({**_BASE, "type": "datetime"}, ("datetime", False, False, False, False, ())),
    ],
)
def test_to_remote_field(field: dict[str, Any], expected: tuple[Any, ...]) -> None:
    remote = to_remote_field(field)
    got = (remote.type, remote.required, remote.custom, remote.read_only, remote.unique)
    assert (*got, remote.options) == expected


def test_to_remote_record_keeps_system_fields_apart() -> None:
    row = {
        "attributes": {"type": "Contact", "url": "/x"},
        "Id": "003A",
        "IsDeleted": False,
        "LastName": "Doe",
        "SystemModstamp": "2026-01-05T09:00:00.000+0000",
    }
    record = to_remote_record(row, "SystemModstamp")
    assert record.remote_id == "003A" and not record.archived
    assert record.modified_at == STAMP
    assert dict(record.properties) == {"LastName": "Doe", "SystemModstamp": row["SystemModstamp"]}


@pytest.mark.parametrize(
    ("answer", "created", "outcome", "error"),
    [
        ({"id": "003A", "success": True, "errors": []}, True, Outcome.CREATED, None),
        ({"id": "003A", "success": True, "errors": []}, False, Outcome.UPDATED, None),
        ({"id": "003A", "success": True, "created": True}, None, Outcome.CREATED, None),
        ({"id": "003A", "success": True, "created": False}, None, Outcome.UPDATED, None),
        (
            {
                "success": False,
                "errors": [
                    {
                        "statusCode": "REQUIRED_FIELD_MISSING",
                        "message": "Required fields are missing",
                        "fields": ["LastName"],
                    }
                ],
            },
            True,
            Outcome.ERROR,
            InvalidRecord,
        ),
        (
            {"success": False, "errors": [{"statusCode": "ENTITY_IS_DELETED", "message": "gone"}]},
            False,
            Outcome.ERROR,
            NotFound,
        ),
        ({"success": False, "errors": []}, True, Outcome.ERROR, InvalidRecord),
    ],
)
def test_save_result(
    answer: dict[str, Any], created: bool | None, outcome: Outcome, error: type | None
) -> None:
    result = save_result(answer, created=created)
    assert result.outcome is outcome
    if error is None:
        assert result.remote_id == "003A" and result.error is None
    else:
        assert type(result.error) is error


def test_save_result_error_names_the_fields() -> None:
    answer = {"success": False, "errors": [{"statusCode": "X", "message": "m", "fields": ["A"]}]}
    error = save_result(answer, created=True).error
    assert error is not None and error.code == "X" and "A" in error.message


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("api-usage=18/5000", ApiUsage(18, 5000)),
        ("api-usage=5000/5000; per-app-api-usage=17/250(appName=x)", ApiUsage(5000, 5000)),
        ("api-bursts=1/750", None),
        (None, None),
    ],
)
def test_parse_limit_info(header: str | None, expected: ApiUsage | None) -> None:
    assert parse_limit_info(header) == expected


def test_api_usage_remaining_never_negative() -> None:
    assert ApiUsage(10, 15).remaining == 5
    assert ApiUsage(20, 15).remaining == 0


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", "'plain'"),
        ("o'brien@example.com", "'o\\'brien@example.com'"),
        ("back\\slash", "'back\\\\slash'"),
        ("two\nlines", "'two\\nlines'"),
        (42, "'42'"),
    ],
)
def test_quote(value: object, literal: str) -> None:
    assert quote(value) == literal


def test_changed_since_selects_each_field_once_in_stamp_order() -> None:
    query = changed_since("Contact", ["id", "LastName", "systemmodstamp"], "SystemModstamp", STAMP)
    assert query == (
        "SELECT Id, IsDeleted, SystemModstamp, LastName FROM Contact "
        "WHERE SystemModstamp >= 2026-01-05T09:00:00Z ORDER BY SystemModstamp ASC, Id ASC"
    )
    assert "WHERE" not in changed_since("Contact", [], "SystemModstamp", None)


def test_matching_quotes_every_value() -> None:
    assert matching("Lead", "Email", ["a@x.com", "o'b@x.com"]) == (
        "SELECT Id, Email FROM Lead WHERE Email IN ('a@x.com', 'o\\'b@x.com') "
        "ORDER BY CreatedDate ASC, Id ASC"
    )


@pytest.mark.parametrize("bad", ["Email) OR (Name", "Email'", "", "1Field", "A B"])
def test_names_that_are_not_api_names_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError):
        matching("Contact", bad, ["x"])
