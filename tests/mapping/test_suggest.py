"""Mapping suggestions: header table accuracy, value detection, remote targets."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.mapping.detect import detect_type
from crmsync.mapping.schema import FieldType
from crmsync.mapping.suggest import TargetField, suggest_mappings
from crmsync.mapping.synonyms import normalise_header

SPELLINGS = Path(__file__).parent / "data" / "header_spellings.csv"


def load_spellings() -> list[dict[str, str]]:
    with SPELLINGS.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_header_table_top1_accuracy_is_at_least_95_percent() -> None:
    rows = load_spellings()
    assert len(rows) >= 150
    assert {r["object_type"] for r in rows} >= {"contacts", "leads", "deals"}
    misses = [
        (r["header"], r["expected"], s.target)
        for r in rows
        for s in suggest_mappings([r["header"]], None, r["object_type"])
        if s.target != r["expected"]
    ]
    assert 1 - len(misses) / len(rows) >= 0.95, misses


def test_a_whole_header_row_maps_one_to_one() -> None:
    headers = ["First Name", "Last Name", "E-mail", "Mobile", "Company", "Title", "Zip", "Notes"]
    got = {s.source: s.target for s in suggest_mappings(headers, None, "contacts")}
    assert got == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "E-mail": "email",
        "Mobile": "phone",
        "Company": "company",
        "Title": "job_title",
        "Zip": "postal_code",
        "Notes": None,  # contacts have no notes field
    }


def test_values_decide_when_headers_say_nothing() -> None:
    samples = {
        "col1": ["ann@example.com", "bo@example.org", ""],
        "col2": ["(415) 555-2671", "+44 20 7946 0018", "212 736 5000"],
    }
    got = suggest_mappings(["col1", "col2"], samples, "leads")
    assert [(s.target, s.confidence >= 0.9) for s in got] == [("email", True), ("phone", True)]


def test_values_overrule_a_misleading_header() -> None:
    got = suggest_mappings(["Name"], {"Name": ["ann@example.com", "x@y.io"]}, "contacts")
    assert got[0].target == "email"


def test_each_target_is_used_once_and_alternatives_are_listed() -> None:
    got = suggest_mappings(["Email", "E-mail"], None, "contacts")
    assert [s.target for s in got] == ["email", None]
    assert got[1].alternatives[0].target == "email"
    assert all(0 <= a.confidence <= 1 for s in got for a in s.alternatives)


def test_remote_fields_are_matched_by_name_label_and_concept() -> None:
    remote = [
        TargetField("firstname", "First Name"),
        TargetField("lastname", "Last Name"),
        TargetField("mobilephone", "Mobile Phone Number", FieldType.PHONE),
        TargetField("Zip_Code__c", None),
    ]
    got = suggest_mappings(["Given name", "Surname", "Cell", "Postcode"], None, remote)
    assert [s.target for s in got] == ["firstname", "lastname", "mobilephone", "Zip_Code__c"]


@pytest.mark.parametrize(
    ("header", "normalised"),
    [
        ("E-Mail Address*", "e mail address"),
        ("firstName", "first name"),
        ("Prénom", "prenom"),
        ("Phone No.", "phone number"),
        ("  ZIP / Postal  ", "zip postal"),
    ],
)
def test_normalise_header(header: str, normalised: str) -> None:
    assert normalise_header(header) == normalised


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["a@b.com", "c@d.org"], FieldType.EMAIL),
        (["(415) 555-2671", "+44 20 7946 0018"], FieldType.PHONE),
        (["250000", "1,500,000"], FieldType.NUMBER),
        (["2024-01-02", "05/06/2024"], FieldType.DATE),
        (["yes", "no", "Y"], FieldType.BOOLEAN),
        (["John", "Ann"], None),
        (["a@b.com", "x", "y"], None),
        ([], None),
        ([None, " "], None),
    ],
)
def test_detect_type(values: list[str | None], expected: FieldType | None) -> None:
    assert detect_type(values) == expected


@settings(deadline=None)  # phonenumbers is slow on a busy machine
@given(st.lists(st.text(), max_size=5), st.lists(st.text(), max_size=5))
def test_suggestions_never_crash_and_stay_in_range(headers: list[str], values: list[str]) -> None:
    samples = {h: values for h in headers}
    for s in suggest_mappings(headers, samples, "deals"):
        assert 0 <= s.confidence <= 1
        assert s.target is None or s.confidence >= 0.6


@pytest.mark.parametrize(
    ("header", "values", "wrong"),
    [
        ("Create Date", ["2024-03-15 14:23"], "date_of_birth"),  # HubSpot contacts export
        ("Created Date", ["3/15/2024"], "date_of_birth"),  # Salesforce report
        ("Date de création", ["15/03/2024"], "date_of_birth"),  # a French export
        ("Last Activity Date", ["2024-04-01 09:00"], "date_of_birth"),
        ("Montant", ["1 250,50"], "utm_content"),  # French: an amount
    ],
)
def test_a_header_is_not_a_field_it_only_looks_like(
    header: str, values: list[str], wrong: str
) -> None:
    # a HubSpot export imported its contacts' creation dates as their birthdays
    got = suggest_mappings([header], {header: values}, "contacts", for_import=True)
    assert got[0].target != wrong


def test_a_fuzzy_match_needs_the_fields_words_in_the_header() -> None:
    # only the owner column is taken: "Lead Owner" still does not mean the lead's name
    got = suggest_mappings(["Contact owner", "Lead Owner"], None, "contacts", for_import=True)
    assert [s.target for s in got] == ["owner", None]
