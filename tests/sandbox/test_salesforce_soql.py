"""SOQL subset: parsing and evaluation against an in-memory org, by tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.sandbox.salesforce.clock import ManualClock
from crmsync.sandbox.salesforce.errors import ApiError
from crmsync.sandbox.salesforce.query import run_query
from crmsync.sandbox.salesforce.schema import standard_objects
from crmsync.sandbox.salesforce.soql import Comparison, Junction, Negation, parse
from crmsync.sandbox.salesforce.store import OrgStore

USER = "0058c0000000001AAA"


@pytest.fixture
def store() -> OrgStore:
    org = OrgStore(standard_objects(), ManualClock(datetime(2026, 3, 10, 12, tzinfo=UTC)))
    rows: list[dict[str, Any]] = [
        {
            "LastName": "O'Brien",
            "FirstName": "Ann",
            "Email": "ann@example.com",
            "Birthdate": "1990-05-01",
        },
        {"LastName": "smith", "FirstName": "Bob", "Email": "bob@example.org"},
        {"LastName": "Smith", "FirstName": None, "HasOptedOutOfEmail": True},
        {"LastName": "100% Real", "Title": "CEO_1"},
    ]
    for row in rows:
        org.create("Contact", row, USER)
    return org


def _names(store: OrgStore, soql: str, include_deleted: bool = False) -> list[str]:
    _, rows = run_query(store, parse(soql, date(2026, 3, 10)), "59.0", include_deleted)
    return [r["LastName"] for r in rows]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("LastName = 'SMITH'", ["smith", "Smith"]),
        ("LastName = 'O\\'Brien'", ["O'Brien"]),
        ("LastName != 'smith'", ["O'Brien", "100% Real"]),
        ("LastName <> 'smith'", ["O'Brien", "100% Real"]),
        ("FirstName = null", ["Smith", "100% Real"]),
        ("FirstName != null", ["O'Brien", "smith"]),
        ("FirstName > 'Amy'", ["O'Brien", "smith"]),
        ("FirstName < 'b'", ["O'Brien"]),
        ("Email LIKE '%.org'", ["smith"]),
        ("LastName LIKE 's_ith'", ["smith", "Smith"]),
        ("LastName LIKE '100\\% %'", ["100% Real"]),
        ("Title LIKE 'CEO\\_1'", ["100% Real"]),
        ("LastName IN ('smith', 'o\\'brien')", ["O'Brien", "smith", "Smith"]),
        ("LastName NOT IN ('smith')", ["O'Brien", "100% Real"]),
        ("HasOptedOutOfEmail = true", ["Smith"]),
        ("HasOptedOutOfEmail = false AND FirstName != null", ["O'Brien", "smith"]),
        ("(LastName = 'smith' AND FirstName = 'Bob') OR Title = 'CEO_1'", ["smith", "100% Real"]),
        ("NOT LastName = 'smith'", ["O'Brien", "100% Real"]),
        ("Birthdate < 2000-01-01", ["O'Brien"]),
        ("CreatedDate = TODAY", ["O'Brien", "smith", "Smith", "100% Real"]),
        ("CreatedDate = YESTERDAY", []),
        ("CreatedDate = LAST_N_DAYS:3", ["O'Brien", "smith", "Smith", "100% Real"]),
        ("CreatedDate > 2026-03-10T11:59:59Z", ["O'Brien", "smith", "Smith", "100% Real"]),
        ("SystemModstamp >= 2026-03-10T13:00:00+01:00", ["O'Brien", "smith", "Smith", "100% Real"]),
        ("SystemModstamp > 2026-03-10T12:00:00.000+0000", []),
    ],
)
def test_where_filters(store: OrgStore, where: str, expected: list[str]) -> None:
    assert _names(store, " ".join(("SELECT LastName FROM Contact WHERE", where))) == expected


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("ORDER BY LastName", ["100% Real", "O'Brien", "smith", "Smith"]),
        ("ORDER BY FirstName", ["Smith", "100% Real", "O'Brien", "smith"]),
        ("ORDER BY FirstName NULLS LAST", ["O'Brien", "smith", "Smith", "100% Real"]),
        ("ORDER BY FirstName DESC", ["smith", "O'Brien", "Smith", "100% Real"]),
        ("ORDER BY FirstName DESC NULLS FIRST", ["Smith", "100% Real", "smith", "O'Brien"]),
        ("ORDER BY LastName DESC, FirstName ASC LIMIT 2", ["Smith", "smith"]),
        ("ORDER BY LastName LIMIT 2 OFFSET 1", ["O'Brien", "smith"]),
    ],
)
def test_order_limit_offset(store: OrgStore, tail: str, expected: list[str]) -> None:
    assert _names(store, " ".join(("select LastName from Contact", tail))) == expected


def test_parse_builds_the_condition_tree() -> None:
    query = parse("SELECT Id, Name FROM Account WHERE NOT (A = 1 OR B IN (2, 3)) AND C < 4.5")

    assert [f.name for f in query.fields] == ["Id", "Name"]
    assert isinstance(query.where, Junction) and query.where.op == "AND"
    negated, last = query.where.parts
    assert isinstance(negated, Negation) and isinstance(negated.part, Junction)
    assert negated.part.op == "OR"
    assert isinstance(last, Comparison) and last.op == "<"
    assert not isinstance(last.value, tuple) and last.value.value == 4.5


@pytest.mark.parametrize(
    ("soql", "code", "fragment"),
    [
        ("SELECT Id FRM Contact", "MALFORMED_QUERY", "unexpected token: 'FRM'"),
        ("SELECT FROM Contact", "MALFORMED_QUERY", "ERROR at Row:1:Column:8"),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY", "<EOF>"),
        ("SELECT Id FROM Contact LIMIT -1", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Contact WHERE Email = 'x", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id, id FROM Contact", "MALFORMED_QUERY", "duplicate field selected: Id"),
        (
            "SELECT Id FROM Contact WHERE Birthdate > 2026-02-30",
            "MALFORMED_QUERY",
            "unexpected token: '2026-02-30'",
        ),
        (
            "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:99999999999",
            "MALFORMED_QUERY",
            "unexpected token",
        ),
        (
            "SELECT Id FROM Contact WHERE CreatedDate > 9999-12-31T23:59:59-23:59",
            "MALFORMED_QUERY",
            "unexpected token",
        ),
        ("SELECT Nope FROM Contact", "INVALID_FIELD", "No such column 'Nope' on entity"),
        ("SELECT Id FROM Contact WHERE Nope = 1", "INVALID_FIELD", "No such column 'Nope'"),
        ("SELECT Id FROM Contact ORDER BY Nope", "INVALID_FIELD", "No such column 'Nope'"),
        ("SELECT Id FROM Widget", "INVALID_TYPE", "sObject type 'Widget' is not supported"),
        (
            "SELECT Id FROM Contact WHERE CreatedDate > '2026-01-01'",
            "INVALID_FIELD",
            "must be of type dateTime",
        ),
        ("SELECT Id FROM Contact WHERE LastName = 5", "INVALID_FIELD", "must be of type string"),
        (
            "SELECT Id FROM Contact WHERE HasOptedOutOfEmail = 'true'",
            "INVALID_FIELD",
            "must be of type boolean",
        ),
        (
            "SELECT Id FROM Contact WHERE CreatedDate LIKE '2026%'",
            "INVALID_FIELD",
            "must be of type dateTime",
        ),
    ],
)
def test_errors_name_the_code_and_point_at_the_problem(
    store: OrgStore, soql: str, code: str, fragment: str
) -> None:
    with pytest.raises(ApiError) as raised:
        run_query(store, parse(soql), "59.0", False)
    assert raised.value.status == 400
    assert raised.value.code == code
    assert fragment in raised.value.message


def test_count_and_rendering(store: OrgStore) -> None:
    total, none = run_query(
        store, parse("SELECT COUNT() FROM Contact WHERE LastName = 'smith'"), "58.0", False
    )
    _, rows = run_query(
        store, parse("SELECT birthdate, CREATEDDATE FROM Contact LIMIT 1"), "58.0", False
    )

    assert (total, none) == (2, [])
    assert rows[0]["attributes"]["url"].startswith("/services/data/v58.0/sobjects/Contact/")
    assert rows[0]["Birthdate"] == "1990-05-01"
    assert rows[0]["CreatedDate"] == "2026-03-10T12:00:00.000+0000"


def test_deleted_rows_only_with_query_all(store: OrgStore) -> None:
    (gone,) = [r["Id"] for r in store.rows("Contact") if r["LastName"] == "O'Brien"]
    store.delete("Contact", gone, USER)

    assert "O'Brien" not in _names(store, "SELECT LastName FROM Contact")
    assert _names(store, "SELECT LastName FROM Contact WHERE IsDeleted = true", True) == ["O'Brien"]


def test_parent_fields_through_lookups(store: OrgStore) -> None:
    acme = store.create("Account", {"Name": "Acme", "Industry": "Banking"}, USER)
    zeta = store.create("Account", {"Name": "Zeta"}, USER)
    store.create("Contact", {"LastName": "Child", "AccountId": zeta["Id"]}, USER)
    store.create("Contact", {"LastName": "Other", "AccountId": acme["Id"]}, USER)
    soql = (
        "SELECT LastName, Account.Name, account.industry FROM Contact "
        "WHERE Account.Name != null ORDER BY Account.Name DESC"
    )

    _, rows = run_query(store, parse(soql), "59.0", False)
    _, orphan = run_query(
        store,
        parse("SELECT Account.Name FROM Contact WHERE LastName = 'smith' LIMIT 1"),
        "59.0",
        False,
    )

    assert [(r["LastName"], r["Account"]["Name"]) for r in rows] == [
        ("Child", "Zeta"),
        ("Other", "Acme"),
    ]
    assert rows[1]["Account"] == {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v59.0/sobjects/Account/{acme['Id']}",
        },
        "Name": "Acme",
        "Industry": "Banking",
    }
    assert orphan[0]["Account"] is None


@pytest.mark.parametrize(
    ("soql", "fragment"),
    [
        ("SELECT Creator.Name FROM Contact", "Didn't understand relationship 'Creator'"),
        ("SELECT Account.Shoe__c FROM Contact", "No such column 'Shoe__c' on entity 'Account'"),
        ("SELECT Account.Parent.Name FROM Contact", "Didn't understand relationship"),
    ],
)
def test_unknown_relationship_paths_are_invalid_fields(
    store: OrgStore, soql: str, fragment: str
) -> None:
    with pytest.raises(ApiError) as raised:
        run_query(store, parse(soql), "59.0", False)
    assert raised.value.code == "INVALID_FIELD" and fragment in raised.value.message


# Pieces of SOQL, including impossible dates and out-of-range numbers.
_WORDS = [
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDER",
    "BY",
    "LIMIT",
    "OFFSET",
    "COUNT()",
    "Id",
    "LastName",
    "Contact",
    "Account.Name",
    "(",
    ")",
    ",",
    "=",
    "!=",
    "<",
    ">=",
    "'x'",
    "'",
    "5",
    "-1.5",
    "null",
    "true",
    "2026-01-01",
    "2026-01-01T00:00:00Z",
    "TODAY",
    "LAST_N_DAYS:2",
    "NULLS",
    "DESC",
    "%",
    "\\",
    "2026-02-30",
    "LAST_N_DAYS:99999999999",
    "9999-12-31T23:59:59-23:59",
    "99999999999999999999",
]


@given(st.lists(st.sampled_from(_WORDS), max_size=14), st.text(max_size=6))
@settings(max_examples=150, deadline=None)
def test_any_input_either_runs_or_is_a_salesforce_error(words: list[str], tail: str) -> None:
    store = OrgStore(standard_objects(), ManualClock())
    store.create("Contact", {"LastName": "Only"}, USER)
    text = " ".join(words) + tail
    try:
        total, rows = run_query(store, parse(text), "59.0", False)
    except ApiError as exc:
        assert exc.status == 400 and exc.code.isupper()
    else:
        assert total >= len(rows)
