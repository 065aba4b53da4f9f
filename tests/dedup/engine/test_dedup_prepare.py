from __future__ import annotations

import datetime
import math
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.dedup.engine.blocking import PASSES, key_of_one, key_strings
from crmsync.dedup.engine.prepared import prepare
from crmsync.dedup.engine.single import prepare_one
from crmsync.quality.normalize import normalize_email

TRICKY: list[dict[str, Any]] = [
    {
        "id": "1",
        "first_name": " Bob ",
        "last_name": "O'Neil-Smith",
        "email": " Bob@Acme.COM",
        "phone": "(415) 555-0134",
        "dob": "1980-04-12",
        "company": "Acme, Inc.",
        "city": "St. Louis",
        "postcode": "SW1A 1AA",
        "address": "10 Downing St.",
    },
    {
        "id": "2",
        "first_name": "JOSÉ",
        "last_name": "Müller",
        "email": "mailto:jm@gmail.com",
        "phone": "+44 20 7946 0958",
        "dob": "12/03/1975",
    },
    {
        "id": "3",
        "first_name": "J",
        "last_name": "",
        "email": "not-an-email",
        "phone": "12",
        "dob": "1999",
        "company": "Globex LLC",
    },
    {"id": "4", "email": "x\u200b@y.com", "phone": "1-800-FLOWERS", "city": "Zürich 2"},
    {
        "id": "5",
        "first_name": "Hall",
        "last_name": "Isla",
        "dob": datetime.date(1985, 2, 7),
        "phone": 4155550134,
    },
    {"id": "6"},
]


def same_values(a: dict[str, Any], b: dict[str, Any]) -> bool:
    for name, value in a.items():
        other = b[name]
        if isinstance(value, float) and math.isnan(value):
            if not (isinstance(other, float) and math.isnan(other)):
                return False
        elif value != other:
            return False
    return True


@pytest.mark.parametrize("record", TRICKY, ids=lambda r: r["id"])
def test_single_record_preparation_matches_the_frame(record: dict[str, Any]) -> None:
    framed = prepare([record]).row(0, named=True)
    single = prepare_one(record)
    assert same_values(framed, single), (framed, single)


@pytest.mark.parametrize("record", TRICKY, ids=lambda r: r["id"])
def test_single_record_keys_match_the_frame(record: dict[str, Any]) -> None:
    frame = prepare([record])
    single = prepare_one(record)
    for block in PASSES:
        table = key_strings(frame, block)
        expected = None if table.height == 0 else (table["key"][0], table["sort"][0])
        assert key_of_one(single, block) == expected, block.name


# Basic Multilingual Plane only: planes added in recent Unicode versions are classified
# differently by Python and by the Rust regex engine polars uses.
text = st.text(
    alphabet=st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs", "Cn", "Co")),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(first=text, last=text, email=text, phone=text, dob=text, city=text, company=text)
def test_preparation_agrees_on_any_text(
    first: str, last: str, email: str, phone: str, dob: str, city: str, company: str
) -> None:
    record = {
        "id": "x",
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
        "dob": dob,
        "city": city,
        "company": company,
    }
    assert same_values(prepare([record]).row(0, named=True), prepare_one(record))


@pytest.mark.parametrize(
    "value",
    [
        " A@B.co ",
        "mailto:x@y.org",
        "bad@",
        "",
        "a..b@c.com",
        "Ünï@x.com",
        "x\u200b@y.com",
        "first.last+tag@sub.example.co.uk",
    ],
)
def test_email_column_equals_normalize_email(value: str) -> None:
    prepared = prepare([{"id": "1", "email": value}])
    assert prepared["email"][0] == (normalize_email(value) or "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(415) 555-0134", "+14155550134"),
        ("1-415-555-0134", "+14155550134"),
        ("+1 415 555 0134", "+14155550134"),
        ("+44 20 7946 0958", "+442079460958"),
        ("12", ""),
        ("", ""),
    ],
)
def test_phones_in_e164(raw: str, expected: str) -> None:
    assert prepare([{"id": "1", "phone": raw}])["phone"][0] == expected


def test_a_frame_is_accepted_as_input() -> None:
    frame = pl.DataFrame({"id": ["a"], "first_name": ["Ann"], "dob": ["2001-02-03"]})
    prepared = prepare(frame)
    assert prepared["first"][0] == "ann"
    assert prepared["dob"][0] == "20010203"
    assert prepared["last"][0] == ""
