"""Rows become canonical payloads through the mapping engine, with cleansing and checks."""

from __future__ import annotations

from typing import Any

import pytest

from crmsync.imports.errors import InvalidOptions
from crmsync.imports.rowmap import RowMapper

COLUMNS = {
    "First": "first_name",
    "Last": "last_name",
    "Mail": "email",
    "Tel": "phone",
    "Id": "external_ref",
    "Score": "engagement_score",
    "Loan": "custom_fields.loan_type",
}


@pytest.mark.parametrize(
    ("values", "fields", "errors"),
    [
        (
            {"First": " JOHN ", "Last": "mcdonald", "Mail": "John@Example.COM", "Id": 7},
            {"first_name": "John", "last_name": "McDonald", "email": "john@example.com",
             "external_ref": "7"},
            [],
        ),
        (
            {"Mail": "a@example.com", "Tel": "(212) 555-0134", "Score": "1,250.5"},
            {"email": "a@example.com", "phone": "+12125550134", "engagement_score": 1250.5},
            [],
        ),
        ({"Mail": "a@example.com", "Loan": "FHA"},
         {"email": "a@example.com", "custom_fields": {"loan_type": "FHA"}}, []),
        ({"Mail": "not-an-email", "First": "Ana"}, {"first_name": "Ana"},
         ["Mail: not an e-mail address"]),
        ({"Tel": "12", "Mail": ""}, {}, ["Tel: not a valid phone number"]),
        ({"First": "", "Other": "x"}, {}, ["no mapped column has a value"]),
        ({"Tel": "'+1 212 555 0134"}, {"phone": "+12125550134"}, []),
        ({"First": "Ana\u200b\u00a0Maria"}, {"first_name": "Ana Maria"}, []),
    ],
)  # fmt: skip
def test_map_with_cleansing_and_validation(
    values: dict[str, Any], fields: dict[str, Any], errors: list[str]
) -> None:
    out = RowMapper("contacts", COLUMNS).map(values)
    assert (out.fields, out.errors) == (fields, errors)


def test_without_validation_a_bad_value_is_left_out() -> None:
    out = RowMapper("contacts", COLUMNS, validate=False).map({"Mail": "nope", "First": "Ana"})
    assert (out.fields, out.errors) == ({"first_name": "Ana"}, [])


def test_without_cleansing_names_keep_their_case() -> None:
    out = RowMapper("contacts", COLUMNS, cleanse=False).map({"First": "JOHN"})
    assert out.fields == {"first_name": "JOHN"}


@pytest.mark.parametrize(
    ("object_type", "columns", "message"),
    [
        ("contacts", {"A": "shoe_size"}, "unknown canonical field 'shoe_size'"),
        ("contacts", {"A": "email", "B": "email"}, "'A' is written twice|'email' is written twice"),
        ("tickets", {"A": "subject"}, "object type must be one of"),
        ("contacts", {"A": None}, "maps no column"),
    ],
)
def test_unusable_mappings_are_refused(
    object_type: str, columns: dict[str, str | None], message: str
) -> None:
    with pytest.raises(InvalidOptions, match=message):
        RowMapper(object_type, columns)
