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
            {"Mail": "a@example.com", "Tel": "(212) 555-0134", "Score": "12.5"},
            {"email": "a@example.com", "phone": "+12125550134", "engagement_score": 12.5},
            [],
        ),
        ({"Mail": "a@example.com", "Loan": "FHA"},
         {"email": "a@example.com", "custom_fields": {"loan_type": "FHA"}}, []),
        # every problem of the row at once: the bad e-mail, and so no e-mail or phone
        ({"Mail": "not-an-email", "First": "Ana"}, {"first_name": "Ana"},
         ["Mail: not an e-mail address", "one of email, phone is required"]),
        # a bad phone is a warning; with no e-mail left the row fails on the record rule
        ({"Tel": "12", "Mail": ""}, {},
         ["one of email, phone is required", "no data: no mapped column has a value"]),
        ({"First": "", "Other": "x"}, {},
         ["one of email, phone is required", "no data: no mapped column has a value"]),
        ({"Id": "L-1"}, {"external_ref": "L-1"},
         ["one of email, phone is required", "no data: the row has nothing but an id"]),
        ({"Tel": "'+1 212 555 0134"}, {"phone": "+12125550134"}, []),
        ({"First": "Ana\u200b\u00a0Maria", "Mail": "a@example.com"},
         {"first_name": "Ana Maria", "email": "a@example.com"}, []),
    ],
)  # fmt: skip
def test_map_with_cleansing_and_validation(
    values: dict[str, Any], fields: dict[str, Any], errors: list[str]
) -> None:
    out = RowMapper("contacts", COLUMNS).map(values)
    assert (out.fields, out.errors) == (fields, errors)


def test_a_bad_phone_is_a_warning_when_the_row_has_an_email() -> None:
    out = RowMapper("contacts", COLUMNS).map({"Mail": "a@example.com", "Tel": "12"})
    assert (out.fields, out.errors) == ({"email": "a@example.com"}, [])
    assert out.warnings == ["Tel: not a valid phone number"]


def test_a_warning_leaves_the_value_out_and_keeps_the_row() -> None:
    out = RowMapper("contacts", COLUMNS).map({"Mail": "a@example.com", "Score": "250"})
    assert (out.fields, out.errors) == ({"email": "a@example.com"}, [])
    assert out.warnings == ["Score: more than 100"]


@pytest.mark.parametrize(
    ("severity", "errors", "fields"),
    [
        ({"phone": "error"}, ["Tel: not a valid phone number"], {"email": "a@example.com"}),
        ({"phone:phone": "error"}, ["Tel: not a valid phone number"], {"email": "a@example.com"}),
        ({"email": "warning"}, [], {"phone": "+12125550134"}),
    ],
)
def test_severity_is_set_per_import(
    severity: dict[str, Any], errors: list[str], fields: dict[str, Any]
) -> None:
    mapper = RowMapper("contacts", COLUMNS, severity=severity)
    row = {"Mail": "a@example.com", "Tel": "12"} if "phone" in str(severity) else {
        "Mail": "nope", "Tel": "(212) 555-0134"}  # fmt: skip
    out = mapper.map(row)
    assert (out.errors, out.fields) == (errors, fields)


def test_without_validation_a_bad_value_is_left_out() -> None:
    out = RowMapper("contacts", COLUMNS, validate=False).map({"Mail": "nope", "First": "Ana"})
    assert (out.fields, out.errors) == ({"first_name": "Ana"}, [])
    assert out.warnings == ["Mail: not an e-mail address"]


def test_a_value_the_records_service_refuses_names_its_column() -> None:
    out = RowMapper("contacts", COLUMNS).map({"Mail": "a@example.com", "First": "x" * 101})
    assert out.errors == ["First: longer than 100 characters"]


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


def test_a_value_with_a_warning_can_be_kept_in_a_custom_field() -> None:
    mapper = RowMapper("contacts", COLUMNS, keep_invalid=True)
    out = mapper.map({"Mail": "a@example.com", "Tel": "12", "Score": "250"})
    assert out.fields == {
        "email": "a@example.com",
        "custom_fields": {"phone": "12", "engagement_score": "250"},
    }
    assert out.warnings == ["Tel: not a valid phone number", "Score: more than 100"]
