"""Numbers and dates as CRM exports and spreadsheets write them, read by region."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from crmsync.mapping.coerce import to_canonical
from crmsync.mapping.schema import FieldType


@pytest.mark.parametrize(
    ("text", "region", "number"),
    [
        ("$350,000.00", "US", 350000),  # a Salesforce opportunity report
        ("USD 1,250,000.00", "US", 1250000),
        ("(1,200.00)", "US", -1200),  # accounting negative
        ("1,000", "US", 1000),
        ("1.5", "US", 1.5),
        ("1 250,50", "FR", 1250.5),  # a French Excel file
        ("1 250,50 €", "FR", 1250.5),
        ("€1.250,50", "DE", 1250.5),
        ("1.250", "DE", 1250),
        ("1,5", "DE", 1.5),
        ("R$ 1.250,50", "BR", 1250.5),
        ("1'250.50", "CH", 1250.5),
        ("45%", "US", 0.45),
    ],
)
def test_numbers_as_people_write_them(text: str, region: str, number: float) -> None:
    assert to_canonical(text, FieldType.NUMBER, region) == number


@pytest.mark.parametrize("text", ["1,2,3", "abc", "$", "12 apples"])
def test_what_is_no_number_stays_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        to_canonical(text, FieldType.NUMBER)


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("6/30/2024", "US", date(2024, 6, 30)),  # Salesforce, US locale
        ("4/1/2024", "US", date(2024, 4, 1)),
        ("4/1/2024", "FR", date(2024, 1, 4)),
        ("15/03/2024", "GB", date(2024, 3, 15)),
        ("29.02.2024", "US", date(2024, 2, 29)),  # dots: always day first
        ("12/31/24", "US", date(2024, 12, 31)),
        ("2024/03/15", "US", date(2024, 3, 15)),
        ("3/15/2024 2:23 PM", "US", date(2024, 3, 15)),
        ("2024-03-15 14:23", "US", date(2024, 3, 15)),  # HubSpot
        ("2024-01-31", "FR", date(2024, 1, 31)),
    ],
)
def test_dates_as_crms_write_them(text: str, region: str, expected: date) -> None:
    assert to_canonical(text, FieldType.DATE, region) == expected


@pytest.mark.parametrize(("text", "region"), [("15/03/2024", "US"), ("31.02.2024", "DE")])
def test_an_impossible_date_is_refused(text: str, region: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        to_canonical(text, FieldType.DATE, region)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3/15/2024 2:23 PM", datetime(2024, 3, 15, 14, 23, tzinfo=UTC)),
        ("3/15/2024 12:05 AM", datetime(2024, 3, 15, 0, 5, tzinfo=UTC)),
        ("3/15/2024", datetime(2024, 3, 15, tzinfo=UTC)),
    ],
)
def test_date_times_as_reports_write_them(text: str, expected: Any) -> None:
    assert to_canonical(text, FieldType.DATETIME, "US") == expected
