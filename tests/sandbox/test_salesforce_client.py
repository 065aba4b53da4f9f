"""simple-salesforce, used as any integration would, cannot tell the sandbox from an org.

The sandbox is served over https with the self-signed certificate of the server
helper; the client trusts it through its requests session.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from crmsync.sandbox.salesforce import Sandbox
from crmsync.sandbox.salesforce.clock import ManualClock
from crmsync.sandbox.server import SandboxServer

MOMENTS = ManualClock()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, SandboxServer]]:
    sandbox = Sandbox(clock=MOMENTS)
    with SandboxServer([sandbox], tls=True) as server:
        yield sandbox, server


@pytest.fixture
def sf(served: tuple[Sandbox, SandboxServer]) -> Iterator[Salesforce]:
    sandbox, server = served
    sandbox.reset()
    session = requests.Session()
    # REQUESTS_CA_BUNDLE would otherwise override the session's own trust setting.
    session.trust_env = False
    session.verify = str(server.cert_path)
    yield Salesforce(
        instance_url=server.url("salesforce"),
        session_id=sandbox.org.tokens.default_token,
        session=session,
    )
    session.close()


def _contact(sf: Salesforce) -> Any:
    return sf.Contact


def test_create_then_get_returns_the_record_with_attributes(sf: Salesforce) -> None:
    created = _contact(sf).create({"FirstName": "Ada", "LastName": "Lovelace"})

    record = _contact(sf).get(created["id"])

    assert created["success"] is True and created["errors"] == []
    assert created["id"].startswith("003") and len(created["id"]) == 18
    assert record["LastName"] == "Lovelace"
    assert record["attributes"]["type"] == "Contact"
    assert record["attributes"]["url"].endswith("/sobjects/Contact/" + created["id"])
    assert record["IsDeleted"] is False
    assert record["CreatedDate"].endswith("+0000")


def test_every_object_gets_ids_with_its_key_prefix(sf: Salesforce) -> None:
    prefixes = {
        "Lead": ({"LastName": "L", "Company": "C"}, "00Q"),
        "Account": ({"Name": "Acme"}, "001"),
        "Opportunity": (
            {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"},
            "006",
        ),
        "Task": ({"Subject": "Call"}, "00T"),
    }
    for name, (fields, prefix) in prefixes.items():
        created = getattr(sf, name).create(fields)
        assert created["id"][:3] == prefix, name


def test_upsert_by_external_id_creates_then_updates(sf: Salesforce) -> None:
    first = _contact(sf).upsert("External_Id__c/crm-1", {"LastName": "Before"}, raw_response=True)
    second = _contact(sf).upsert("External_Id__c/crm-1", {"LastName": "After"}, raw_response=True)

    record = _contact(sf).get_by_custom_id("External_Id__c", "crm-1")
    assert first.status_code == 201 and first.json()["created"] is True
    assert second.status_code == 200 and second.json()["created"] is False
    assert second.json()["id"] == first.json()["id"] == record["Id"]
    assert record["LastName"] == "After"


def test_query_all_follows_next_records_url_across_pages(sf: Salesforce) -> None:
    for index in range(450):
        sf.Lead.create({"LastName": f"Lead {index:03d}", "Company": "Acme"})
    headers = {"Sforce-Query-Options": "batchSize=200"}

    first = sf.query("SELECT Id, LastName FROM Lead ORDER BY LastName", headers=headers)
    everything = sf.query_all("SELECT Id, LastName FROM Lead ORDER BY LastName", headers=headers)

    assert first["done"] is False and len(first["records"]) == 200
    assert first["totalSize"] == 450
    assert "/query/01g" in first["nextRecordsUrl"]
    names = [r["LastName"] for r in everything["records"]]
    assert names == [f"Lead {i:03d}" for i in range(450)]


def test_describe_lists_objects_and_custom_external_id_fields(sf: Salesforce) -> None:
    names = {o["name"]: o for o in sf.describe()["sobjects"]}
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}

    assert {"Lead", "Contact", "Account", "Opportunity", "Task"} <= set(names)
    assert names["Lead"]["keyPrefix"] == "00Q"
    assert fields["External_Id__c"]["externalId"] is True
    assert fields["External_Id__c"]["custom"] is True
    assert fields["External_Id__c"]["unique"] is True
    assert fields["LastName"]["nillable"] is False
    assert fields["SystemModstamp"]["type"] == "datetime"
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert sf.Contact.metadata()["objectDescribe"]["keyPrefix"] == "003"


def test_update_then_delete_hides_the_record(sf: Salesforce) -> None:
    created = _contact(sf).create({"LastName": "Temp"})

    updated = _contact(sf).update(created["id"], {"Title": "CTO"})
    title = _contact(sf).get(created["id"])["Title"]
    deleted = _contact(sf).delete(created["id"])

    assert (updated, title, deleted) == (204, "CTO", 204)
    with pytest.raises(SalesforceResourceNotFound):
        _contact(sf).get(created["id"])
    assert sf.query_all("SELECT Id FROM Contact")["totalSize"] == 0
    assert sf.query_all("SELECT Id FROM Contact", include_deleted=True)["totalSize"] == 1


def test_unknown_field_is_invalid_field(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id, Shoe_Size__c FROM Contact")
    assert raised.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Shoe_Size__c' on entity 'Contact'" in raised.value.content[0]["message"]

    with pytest.raises(SalesforceMalformedRequest) as on_write:
        _contact(sf).create({"LastName": "X", "Shoe_Size__c": 9})
    assert on_write.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_bad_soql_is_malformed_query(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FROM Contact WHERE")
    assert raised.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_missing_required_field_and_duplicate_external_id(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.Lead.create({"LastName": "No company"})
    _contact(sf).create({"LastName": "One", "External_Id__c": "dup"})
    with pytest.raises(SalesforceMalformedRequest) as duplicate:
        _contact(sf).create({"LastName": "Two", "External_Id__c": "dup"})

    assert missing.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert missing.value.content[0]["fields"] == ["Company"]
    assert duplicate.value.content[0]["errorCode"] == "DUPLICATE_VALUE"


def test_limit_info_header_is_parsed_into_api_usage(sf: Salesforce) -> None:
    sf.query("SELECT Id FROM Contact")
    first = sf.api_usage["api-usage"]
    sf.query("SELECT Id FROM Contact")

    assert sf.api_usage["api-usage"].used == first.used + 1
    assert first.total == 110_000


def test_updated_and_deleted_through_the_client(sf: Salesforce) -> None:
    kept = _contact(sf).create({"LastName": "Kept"})
    gone = _contact(sf).create({"LastName": "Gone"})
    MOMENTS.advance(minutes=5)
    _contact(sf).delete(gone["id"])
    MOMENTS.advance(minutes=1)
    start, end = MOMENTS() - timedelta(minutes=10), MOMENTS() + timedelta(hours=1)

    updated = _contact(sf).updated(start, end)
    deleted = _contact(sf).deleted(start, end)

    assert updated["ids"] == [kept["id"]]
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone["id"]]
    assert deleted["deletedRecords"][0]["deletedDate"].endswith("+0000")


def test_spent_allocation_is_a_refused_request() -> None:
    sandbox = Sandbox(daily_allocation=2)
    with SandboxServer([sandbox], tls=True) as server:
        session = requests.Session()
        session.trust_env = False
        session.verify = str(server.cert_path)
        sf = Salesforce(
            instance_url=server.url("salesforce"),
            session_id=sandbox.org.tokens.default_token,
            session=session,
        )
        sf.query("SELECT Id FROM Lead")
        sf.query("SELECT Id FROM Lead")

        with pytest.raises(SalesforceRefusedRequest) as raised:
            sf.query("SELECT Id FROM Lead")
        session.close()

    assert raised.value.status == 403
    assert raised.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert sf.api_usage["api-usage"].used == 2 and sf.api_usage["api-usage"].total == 2


def test_a_wrong_token_is_an_expired_session(served: tuple[Sandbox, SandboxServer]) -> None:
    _, server = served
    session = requests.Session()
    session.trust_env = False
    session.verify = str(server.cert_path)
    sf = Salesforce(
        instance_url=server.url("salesforce"), session_id="00Dbad!token", session=session
    )

    with pytest.raises(SalesforceExpiredSession) as raised:
        sf.query("SELECT Id FROM Contact")
    assert raised.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
