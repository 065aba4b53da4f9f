"""Salesforce sandbox fidelity: one test per documented behaviour of
docs/sandboxes-fidelity.md, driven with simple-salesforce.

Each test names the behaviour's row (SF-n) in that list.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from crmsync.sandbox.salesforce import Sandbox
from crmsync.sandbox.salesforce.clock import ManualClock
from crmsync.sandbox.server import SandboxServer

NOW = datetime(2026, 3, 11, 12, tzinfo=UTC)  # a Wednesday
MOMENTS = ManualClock(NOW)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, SandboxServer]]:
    sandbox = Sandbox(clock=MOMENTS)
    with SandboxServer([sandbox], tls=True) as server:
        yield sandbox, server


@pytest.fixture
def sf(served: tuple[Sandbox, SandboxServer]) -> Iterator[Salesforce]:
    sandbox, server = served
    sandbox.reset()
    MOMENTS.set(NOW)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(server.cert_path)
    yield Salesforce(
        instance_url=server.url("salesforce"),
        session_id=sandbox.org.tokens.default_token,
        session=session,
    )
    session.close()


def _upsert(sf: Salesforce, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    body = {
        "allOrNone": False,
        "records": [{"attributes": {"type": "Contact"}, **r} for r in records],
    }
    answer = sf.restful("composite/sobjects/Contact/External_Id__c", method="PATCH", json=body)
    assert isinstance(answer, list)
    return answer


def _codes(result: dict[str, Any]) -> list[str]:
    return [e["statusCode"] for e in result["errors"]]


# SF-1
def test_collections_upsert_refuses_every_record_of_a_repeated_external_id(sf: Salesforce) -> None:
    results = _upsert(
        sf,
        [
            {"External_Id__c": "x-1", "LastName": "A"},
            {"External_Id__c": "x-2", "LastName": "B"},
            {"External_Id__c": "X-1", "LastName": "C"},
        ],
    )
    assert [r["success"] for r in results] == [False, True, False]
    assert _codes(results[0]) == _codes(results[2]) == ["DUPLICATE_VALUE"]
    assert "Duplicate external id specified" in results[0]["errors"][0]["message"]
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 1


# SF-2
def test_long_text_areas_can_be_neither_filtered_nor_sorted(sf: Salesforce) -> None:
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert fields["Description"]["filterable"] is False
    assert fields["MailingStreet"]["filterable"] is True  # a 255-character text area
    for soql in (
        "SELECT Id FROM Contact WHERE Description = 'x'",
        "SELECT Id FROM Contact ORDER BY Description",
    ):
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.query(soql)
        assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"
        assert "can not be" in caught.value.content[0]["message"]
    sf.query("SELECT Id FROM Contact WHERE MailingStreet = 'x'")


# SF-3
def test_fifteen_character_ids_match_in_soql_and_urls(sf: Salesforce) -> None:
    created = sf.Contact.create({"LastName": "Short"})["id"]
    short = created[:15]
    found = sf.query(f"SELECT Id FROM Contact WHERE Id = '{short}'")["records"]  # noqa: S608
    listed = sf.query(f"SELECT Id FROM Contact WHERE Id IN ('{short}', 'nothing')")["records"]  # noqa: S608
    assert [r["Id"] for r in found] == [r["Id"] for r in listed] == [created]
    assert sf.Contact.get(short)["Id"] == created


# SF-4
def test_people_have_a_read_only_compound_name(sf: Salesforce) -> None:
    contact = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace"})["id"]
    sf.Lead.create({"LastName": "Hopper", "Company": "Navy"})
    rows = sf.query("SELECT Name FROM Contact WHERE Name = 'ada lovelace'")["records"]
    leads = sf.query("SELECT Name FROM Lead")["records"]
    assert [r["Name"] for r in rows] == ["Ada Lovelace"]
    assert [r["Name"] for r in leads] == ["Hopper"]
    sf.Contact.update(contact, {"FirstName": "Augusta"})
    assert sf.Contact.get(contact)["Name"] == "Augusta Lovelace"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.update(contact, {"Name": "Someone Else"})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


# SF-5
@pytest.mark.parametrize(
    ("literal", "inside", "outside"),
    [
        ("THIS_WEEK", date(2026, 3, 8), date(2026, 3, 7)),  # weeks start on Sunday
        ("LAST_WEEK", date(2026, 3, 1), date(2026, 3, 8)),
        ("THIS_MONTH", date(2026, 3, 1), date(2026, 2, 28)),
        ("LAST_MONTH", date(2026, 2, 1), date(2026, 3, 1)),
        ("NEXT_MONTH", date(2026, 4, 30), date(2026, 3, 31)),
        ("THIS_QUARTER", date(2026, 1, 1), date(2026, 4, 1)),
        ("LAST_QUARTER", date(2025, 10, 1), date(2026, 1, 1)),
        ("THIS_YEAR", date(2026, 12, 31), date(2025, 12, 31)),
        ("LAST_YEAR", date(2025, 6, 1), date(2026, 1, 1)),
        ("LAST_90_DAYS", date(2025, 12, 11), date(2025, 12, 10)),
        ("NEXT_90_DAYS", date(2026, 6, 9), date(2026, 3, 11)),
        ("N_DAYS_AGO:3", date(2026, 3, 8), date(2026, 3, 9)),
        ("LAST_N_MONTHS:2", date(2026, 1, 1), date(2026, 3, 1)),
        ("NEXT_N_WEEKS:1", date(2026, 3, 15), date(2026, 3, 22)),
        ("LAST_N_YEARS:1", date(2025, 1, 1), date(2026, 1, 1)),
    ],
)
def test_common_date_literals(sf: Salesforce, literal: str, inside: date, outside: date) -> None:
    sf.Contact.create({"LastName": "In", "Birthdate": inside.isoformat()})
    sf.Contact.create({"LastName": "Out", "Birthdate": outside.isoformat()})
    rows = sf.query(f"SELECT LastName FROM Contact WHERE Birthdate = {literal}")["records"]  # noqa: S608
    assert [r["LastName"] for r in rows] == ["In"]


# SF-6
def test_post_to_the_id_resource_creates(sf: Salesforce) -> None:
    created = sf.restful("sobjects/Contact/Id", method="POST", json={"LastName": "ById"})
    assert created["success"] is True and created["id"].startswith("003")
    with pytest.raises(SalesforceGeneralError) as caught:  # any other id: 405
        sf.restful(f"sobjects/Contact/{created['id']}", method="POST", json={"LastName": "X"})
    assert caught.value.status == 405


# SF-7
def test_unserved_apis_answer_not_found(served: tuple[Sandbox, SandboxServer]) -> None:
    sandbox, server = served
    session = requests.Session()
    session.trust_env = False
    answer = session.post(
        server.url("salesforce") + "/services/async/59.0/job",
        headers={"X-SFDC-Session": sandbox.org.tokens.default_token},
        data="<jobInfo/>",
        verify=str(server.cert_path),
    )
    assert answer.status_code == 404
    assert answer.json()[0]["errorCode"] == "NOT_FOUND"


# SF-8
def test_datetime_literal_range_moves_with_the_clock(sf: Salesforce) -> None:
    sf.Contact.create({"LastName": "Old"})
    MOMENTS.set(NOW + timedelta(days=2))
    sf.Contact.create({"LastName": "New"})
    rows = sf.query("SELECT LastName FROM Contact WHERE CreatedDate = TODAY")["records"]
    assert [r["LastName"] for r in rows] == ["New"]


def test_unknown_record_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get("003000000000000AAA")


# SF-9
def test_child_subqueries_nest_related_records(sf: Salesforce) -> None:
    acme = sf.Account.create({"Name": "Acme"})["id"]
    sf.Account.create({"Name": "Empty"})
    for name in ("Zed", "Ada"):
        sf.Contact.create({"LastName": name, "AccountId": acme})
    rows = sf.query(
        "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account ORDER BY Name"
    )["records"]
    assert rows[0]["Contacts"]["totalSize"] == 2
    assert [c["LastName"] for c in rows[0]["Contacts"]["records"]] == ["Ada", "Zed"]
    assert rows[1]["Contacts"] is None
    parents = sf.query("SELECT LastName, Account.Name FROM Contact WHERE Account.Name = 'Acme'")
    assert {r["Account"]["Name"] for r in parents["records"]} == {"Acme"}
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Name, (SELECT Id FROM Nothings) FROM Account")
    assert caught.value.content[0]["errorCode"] == "INVALID_TYPE"


# SF-10
def test_collection_retrieve_answers_in_id_order(sf: Salesforce) -> None:
    first = sf.Contact.create({"LastName": "One"})["id"]
    second = sf.Contact.create({"LastName": "Two"})["id"]
    missing = "003000000000000AAA"
    got = sf.restful(
        "composite/sobjects/Contact",
        params={"ids": f"{second},{missing},{first}", "fields": "LastName"},
    )
    assert [r and r["LastName"] for r in got] == ["Two", None, "One"]
    posted = sf.restful(
        "composite/sobjects/Contact", method="POST", json={"ids": [first], "fields": ["LastName"]}
    )
    assert posted[0]["LastName"] == "One"


# SF-11
def test_composite_chains_references_and_rolls_back_all_or_none(sf: Salesforce) -> None:
    base = "/services/data/v59.0/sobjects"
    chained = [
        {"method": "POST", "url": f"{base}/Account", "referenceId": "acct", "body": {"Name": "A"}},
        {
            "method": "POST",
            "url": f"{base}/Contact",
            "referenceId": "person",
            "body": {"LastName": "L", "AccountId": "@{acct.id}"},
        },
        {"method": "GET", "url": f"{base}/Contact/@{{person.id}}", "referenceId": "read"},
    ]
    answer = sf.restful("composite", method="POST", json={"compositeRequest": chained})
    codes = [r["httpStatusCode"] for r in answer["compositeResponse"]]
    assert codes == [201, 201, 200]
    assert (
        answer["compositeResponse"][2]["body"]["AccountId"]
        == answer["compositeResponse"][0]["body"]["id"]
    )
    failing = [chained[0], {**chained[1], "body": {"AccountId": "@{acct.id}"}}]  # no LastName
    rolled = sf.restful(
        "composite", method="POST", json={"allOrNone": True, "compositeRequest": failing}
    )["compositeResponse"]
    assert rolled[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert rolled[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 1


# SF-12
def test_composite_tree_saves_all_or_nothing(sf: Salesforce) -> None:
    tree = {
        "records": [
            {
                "attributes": {"type": "Account", "referenceId": "a1"},
                "Name": "Tree",
                "Contacts": {
                    "records": [
                        {"attributes": {"type": "Contact", "referenceId": "c1"}, "LastName": "Leaf"}
                    ]
                },
            }
        ]
    }
    made = sf.restful("composite/tree/Account", method="POST", json=tree)
    assert made["hasErrors"] is False and [r["referenceId"] for r in made["results"]] == [
        "a1",
        "c1",
    ]
    child = sf.query("SELECT Account.Name FROM Contact")["records"][0]
    assert child["Account"]["Name"] == "Tree"
    broken = {
        "records": [
            {
                **tree["records"][0],
                "Contacts": {"records": [{"attributes": {"type": "Contact", "referenceId": "c2"}}]},
            }
        ]
    }
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/tree/Account", method="POST", json=broken)
    assert caught.value.content["hasErrors"] is True
    assert caught.value.content["results"][0]["referenceId"] == "c2"
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 1


# SF-13
def test_tooling_custom_field_adds_a_usable_field(sf: Salesforce) -> None:
    body = {
        "FullName": "Contact.Loan_Goal__c",
        "Metadata": {"label": "Loan Goal", "type": "Text", "length": 80},
    }
    made = sf.toolingexecute("sobjects/CustomField", method="POST", json=body)
    assert made["success"] is True and made["id"].startswith("00N")
    fields = {f["name"] for f in sf.Contact.describe()["fields"]}
    assert "Loan_Goal__c" in fields
    created = sf.Contact.create({"LastName": "G", "Loan_Goal__c": "refinance"})["id"]
    assert sf.Contact.get(created)["Loan_Goal__c"] == "refinance"
    with pytest.raises(SalesforceMalformedRequest) as again:
        sf.toolingexecute("sobjects/CustomField", method="POST", json=body)
    assert again.value.content[0]["errorCode"] == "DUPLICATE_DEVELOPER_NAME"
    no_length = {**body, "FullName": "Contact.Other__c", "Metadata": {"label": "O", "type": "Text"}}
    with pytest.raises(SalesforceMalformedRequest) as incomplete:
        sf.toolingexecute("sobjects/CustomField", method="POST", json=no_length)
    assert incomplete.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


# SF-14
def test_owner_ids_must_name_a_user(sf: Salesforce, served: tuple[Sandbox, SandboxServer]) -> None:
    sandbox, _ = served
    users = sf.query("SELECT Id, Email FROM User WHERE IsActive = true ORDER BY Email")["records"]
    assert [u["Email"] for u in users] == ["integration@sandbox.example", "owner@sandbox.example"]
    owner = users[1]["Id"]
    made = sf.Contact.create({"LastName": "Owned", "OwnerId": owner})["id"]
    row = sf.query(f"SELECT Owner.Name FROM Contact WHERE Id = '{made}'")["records"][0]  # noqa: S608
    assert row["Owner"]["Name"] == "Sandbox Owner"
    for bad, code in (
        ("someone@example.com", "MALFORMED_ID"),
        (owner[:5] + "0" * 13, "INVALID_CROSS_REFERENCE_KEY"),
    ):
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.Contact.create({"LastName": "X", "OwnerId": bad})
        assert caught.value.content[0]["errorCode"] == code
    assert sandbox.counts().get("User") is None  # users are org fixtures, not records
