"""The Salesforce connector against the Salesforce sandbox over TLS sockets."""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from crmsync.connectors.base import ChangePage, Outcome, RemoteDeletion, RemoteRecord
from crmsync.connectors.errors import (
    AuthError,
    ConfigError,
    InvalidRecord,
    RateLimited,
    Transient,
)
from crmsync.connectors.http import HttpSettings, RetryPolicy, TokenSet
from crmsync.connectors.http.ratelimit import MemoryWindows
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.registry import ConnectorContext
from crmsync.connectors.salesforce.auth import instance_url
from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.sandbox.salesforce import Sandbox
from crmsync.sandbox.server import SandboxServer
from tests.connectors.conftest import FakeClock
from tests.connectors.contract.salesforce import oauth_grant

FAST = HttpSettings(retry=RetryPolicy(attempts=3, base=0.01, cap=0.05, jitter=0))
EXTERNAL = {"contacts": "External_Id__c", "leads": "External_Id__c"}


@dataclass
class Org:
    sandbox: Sandbox
    url: str
    cert: str

    def context(self, credentials: Mapping[str, Any], **overrides: Any) -> ConnectorContext:
        app = self.sandbox.org.tokens.default_app
        values: dict[str, Any] = {
            "integration_id": uuid.uuid4(),
            "workspace_id": uuid.uuid4(),
            "base_url": self.url,
            "credentials": credentials,
            "client_id": app.client_id,
            "client_secret": Secret(app.client_secret),
            "rate_profile": "unlimited",
            "http": FAST,
            "verify": self.cert,
            "windows": MemoryWindows(),
        }
        values.update(overrides)
        return ConnectorContext(**values)

    def connector(
        self, credentials: Mapping[str, Any] | None = None, **overrides: Any
    ) -> SalesforceConnector:
        given = credentials or {"access_token": self.sandbox.org.tokens.default_token}
        return SalesforceConnector.from_context(
            self.context(given, **overrides), external_ids=EXTERNAL, lag=60
        )

    def tls(self) -> ssl.SSLContext:
        """Trust for the sandbox's self-signed certificate."""
        return ssl.create_default_context(cafile=self.cert)

    def api(self) -> httpx.Client:
        token = self.sandbox.org.tokens.default_token
        return httpx.Client(
            base_url=f"{self.url}/services/data/v59.0",
            headers={"Authorization": f"Bearer {token}"},
            verify=self.tls(),
        )

    def remote(self, sobject: str, remote_id: str) -> dict[str, Any] | None:
        with self.api() as api:
            answer = api.get(f"/sobjects/{sobject}/{remote_id}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return dict(answer.json())

    def oauth_grant(self) -> dict[str, Any]:
        with httpx.Client(base_url=self.url, verify=self.tls()) as client:
            return oauth_grant(client, self.sandbox)

    def force(self, kind: str, count: int) -> None:
        with httpx.Client(base_url=self.url, verify=self.tls()) as client:
            client.post("/_sandbox/faults", json={"kind": kind, "count": count})


@pytest.fixture(scope="module")
def served() -> Iterator[Org]:
    sandbox = Sandbox()
    with SandboxServer([sandbox], tls=True) as server:
        sandbox.base_url = server.url("salesforce")
        yield Org(sandbox, server.url("salesforce"), str(server.cert_path))


@pytest.fixture
def org(served: Org) -> Org:
    served.sandbox.reset()
    return served


def person(n: int, **extra: Any) -> dict[str, Any]:
    return {"Email": f"person{n}@example.com", "FirstName": f"First{n}", "LastName": "Doe", **extra}


def poll(connector: SalesforceConnector, object_type: str, cursor: str | None) -> ChangePage:
    records: list[RemoteRecord] = []
    deletions: list[RemoteDeletion] = []
    while True:
        page = connector.changes(object_type, cursor)
        records += page.records
        deletions += page.deletions
        cursor = page.next_cursor
        if not page.has_more:
            return ChangePage(records, deletions, cursor)


# --- describe and writes -----------------------------------------------------------------


def test_describe_lists_standard_and_custom_fields(org: Org) -> None:
    fields = {f.name: f for f in org.connector().describe("contacts")}
    assert fields["LastName"].required and not fields["LastName"].custom
    assert fields["External_Id__c"].custom and fields["External_Id__c"].unique
    assert fields["Id"].read_only


def test_create_returns_one_created_result_per_payload(org: Org) -> None:
    results = org.connector().upsert("contacts", [person(n) for n in range(3)], "Email")
    assert [r.outcome for r in results] == [Outcome.CREATED] * 3
    for n, result in enumerate(results):
        remote = org.remote("Contact", str(result.remote_id))
        assert remote is not None and remote["Email"] == f"person{n}@example.com"


def test_batch_upsert_by_external_id_with_invalid_records(org: Org) -> None:
    connector = org.connector()
    batch = [person(n, External_Id__c=f"ext-{n}") for n in range(250)]
    batch[3] = {"External_Id__c": "ext-3", "FirstName": "NoLastName"}
    batch[210] = person(210, External_Id__c="ext-210", Email="not-an-email")
    results = connector.upsert("contacts", batch, None)
    assert len(results) == 250
    failed = {n for n, r in enumerate(results) if not r.ok}
    assert failed == {3, 210}
    assert all(isinstance(results[n].error, InvalidRecord) for n in failed)
    assert results[3].error is not None and results[3].error.code == "REQUIRED_FIELD_MISSING"
    assert all(r.outcome is Outcome.CREATED for n, r in enumerate(results) if n not in failed)
    assert org.sandbox.counts()["Contact"] == 248
    again = connector.upsert(
        "contacts", [person(0, External_Id__c="ext-0", LastName="Twice")], None
    )
    assert again[0].outcome is Outcome.UPDATED and again[0].remote_id == results[0].remote_id
    assert org.sandbox.counts()["Contact"] == 248


def test_an_external_id_repeated_in_one_batch_is_written_in_order(org: Org) -> None:
    # Salesforce refuses both records when one collections call repeats an external id
    # (DUPLICATE_VALUE); the connector sends the repeat in a later call instead.
    batch = [
        person(1, External_Id__c="ext-1"),
        person(2, External_Id__c="ext-2"),
        person(1, External_Id__c="EXT-1", LastName="Later"),
    ]
    results = org.connector().upsert("contacts", batch, None)
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.CREATED, Outcome.UPDATED]
    assert results[0].remote_id == results[2].remote_id
    assert org.sandbox.counts()["Contact"] == 2
    remote = org.remote("Contact", str(results[0].remote_id))
    assert remote is not None and remote["LastName"] == "Later"


def test_owners_given_by_email_are_sent_as_user_ids(org: Org) -> None:
    # Salesforce takes only a User id in OwnerId; the connector finds the user by email,
    # and an owner who is no user fails that record only.
    batch = [
        person(1, OwnerId="Owner@Sandbox.example"),
        person(2, OwnerId="nobody@example.com"),
        person(3, OwnerId=org.sandbox.org.crm_user),
    ]
    results = org.connector().upsert("contacts", batch, "Email")
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, InvalidRecord)
    for n in (0, 2):
        remote = org.remote("Contact", str(results[n].remote_id))
        assert remote is not None and remote["OwnerId"] == org.sandbox.org.crm_user


def test_upsert_by_email_updates_and_never_duplicates(org: Org) -> None:
    connector = org.connector()
    first = connector.upsert("contacts", [person(1)], "Email")[0]
    batch = [person(1, FirstName="Renamed"), person(2), person(2, LastName="Second"), person(1)]
    results = connector.upsert("contacts", batch, "Email")
    assert [r.outcome for r in results] == [
        Outcome.UPDATED,
        Outcome.CREATED,
        Outcome.UPDATED,
        Outcome.UPDATED,
    ]
    assert results[0].remote_id == first.remote_id == results[3].remote_id
    assert results[1].remote_id == results[2].remote_id
    assert org.sandbox.counts()["Contact"] == 2
    remote = org.remote("Contact", str(results[2].remote_id))
    assert remote is not None and remote["LastName"] == "Second"


def test_email_matching_two_records_is_refused_not_guessed(org: Org) -> None:
    connector = org.connector()
    connector.upsert("contacts", [person(1), person(1, LastName="Twin")], None)  # no key: creates
    result = connector.upsert("contacts", [person(1, LastName="Which")], "Email")[0]
    assert isinstance(result.error, InvalidRecord) and result.error.code == "MULTIPLE_MATCHES"


def test_update_by_id_and_companies_deals(org: Org) -> None:
    connector = org.connector()
    account = connector.upsert("companies", [{"Name": "Acme"}], None)[0]
    assert account.outcome is Outcome.CREATED
    renamed = connector.upsert("companies", [{"Id": account.remote_id, "Name": "Acme Ltd"}], None)
    assert renamed[0].outcome is Outcome.UPDATED
    remote = org.remote("Account", str(account.remote_id))
    assert remote is not None and remote["Name"] == "Acme Ltd"
    deal = {
        "Name": "Big",
        "StageName": "Prospecting",
        "CloseDate": "2026-03-01",
        "AccountId": account.remote_id,
    }
    assert connector.upsert("deals", [deal], None)[0].outcome is Outcome.CREATED


def test_delete_removes_and_tolerates_missing_records(org: Org) -> None:
    connector = org.connector()
    made = connector.upsert("contacts", [person(n) for n in range(2)], "Email")
    ids = [str(r.remote_id) for r in made]
    connector.delete("contacts", [ids[0], "003000000000000AAA", "nonsense"])
    connector.delete("contacts", [ids[0]])  # already in the recycle bin
    assert org.remote("Contact", ids[0]) is None
    assert org.remote("Contact", ids[1]) is not None


# --- changes -----------------------------------------------------------------------------


def test_changes_are_incremental_and_include_deletions(org: Org) -> None:
    connector = org.connector()
    made = connector.upsert("contacts", [person(n) for n in range(3)], "Email")
    ids = [str(r.remote_id) for r in made]
    first = poll(connector, "contacts", None)
    assert {r.remote_id for r in first.records} == set(ids) and first.deletions == []
    # same second as the first poll: the row's content, not its stamp, tells it changed
    org.sandbox.user_change("Contact", ids[1], {"LastName": "Changed"})
    connector.delete("contacts", [ids[2]])
    second = poll(connector, "contacts", first.next_cursor)
    assert [r.remote_id for r in second.records] == [ids[1]]
    assert second.records[0].properties["LastName"] == "Changed"
    assert [d.remote_id for d in second.deletions] == [ids[2]]
    quiet = poll(connector, "contacts", second.next_cursor)
    assert quiet.records == [] and quiet.deletions == []


def test_changes_page_through_next_records_url(org: Org) -> None:
    connector = org.connector()
    connector.upsert("leads", [{**person(n), "Company": "Acme"} for n in range(2100)], None)
    pages = []
    cursor = None
    while True:
        page = connector.changes("leads", cursor)
        pages.append(len(page.records))
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert pages == [2000, 100]
    assert poll(connector, "leads", cursor).records == []


def test_expired_query_locator_restarts_from_the_watermark(org: Org) -> None:
    connector = org.connector()
    connector.upsert("leads", [{**person(n), "Company": "Acme"} for n in range(2100)], None)
    page = connector.changes("leads", None)
    assert page.has_more
    for _ in range(11):  # open more cursors than the org keeps: ours is released
        connector.changes("leads", None)
    rest = poll(connector, "leads", page.next_cursor)
    ids = {r.remote_id for r in page.records} | {r.remote_id for r in rest.records}
    assert len(ids) == 2100


# --- auth and errors ---------------------------------------------------------------------


def test_expired_session_is_refreshed_once_on_401(org: Org) -> None:
    credentials = org.oauth_grant()
    org.sandbox.org.tokens.expire_sessions()
    saved: list[TokenSet] = []
    connector = org.connector(credentials, on_refresh=saved.append)
    assert connector.describe("contacts")
    assert len(saved) == 1
    assert saved[0].access_token.reveal() != credentials["access_token"]
    assert saved[0].extras["instance_url"] == org.url
    assert connector.describe("leads")
    assert len(saved) == 1  # the new session is used from then on


def test_revoked_refresh_token_is_an_auth_error(org: Org) -> None:
    credentials = org.oauth_grant()
    org.sandbox.org.tokens.revoke(credentials["refresh_token"])
    org.sandbox.org.tokens.expire_sessions()
    with pytest.raises(AuthError):
        org.connector(credentials).describe("contacts")


def test_rejected_session_raises_auth_error(org: Org) -> None:
    connector = org.connector({"access_token": "00D000000000000!nope"})
    with pytest.raises(AuthError) as raised:
        connector.describe("contacts")
    assert raised.value.code == "INVALID_SESSION_ID"


def test_the_concurrent_request_limit_is_waited_out(org: Org) -> None:
    # the sandbox's injected throttle is Salesforce's concurrent-request 403; a spent
    # daily allocation ("TotalRequests") is classified in tests/connectors/test_errors.py
    clock = FakeClock(time.time())
    connector = org.connector(sleep=clock.sleep, clock=clock)
    org.force("429", 1)
    assert connector.describe("contacts")
    assert clock.sleeps and clock.sleeps[0] >= 30


def test_the_concurrent_request_limit_beyond_the_tolerated_count_is_rate_limited(
    org: Org,
) -> None:
    clock = FakeClock(time.time())
    connector = org.connector(sleep=clock.sleep, clock=clock, http=HttpSettings(max_rate_limited=1))
    org.force("429", 2)
    with pytest.raises(RateLimited) as raised:
        connector.describe("contacts")
    assert raised.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert "ConcurrentPerOrgLongTxn" in raised.value.message


def test_5xx_is_transient_after_the_retries(org: Org) -> None:
    clock = FakeClock(time.time())
    settings = HttpSettings(retry=RetryPolicy(attempts=3, base=0.5, cap=4, jitter=0))
    connector = org.connector(sleep=clock.sleep, clock=clock, http=settings)
    org.force("503", 3)
    with pytest.raises(Transient):
        connector.describe("contacts")
    assert clock.sleeps == [0.5, 1.0]


def test_spent_allocation_from_sforce_limit_info_holds_further_calls() -> None:
    sandbox = Sandbox(daily_allocation=3)
    with SandboxServer([sandbox], tls=True) as server:
        org = Org(sandbox, server.url("salesforce"), str(server.cert_path))
        connector = org.connector(rate_profile="salesforce-developer")
        connector.describe("contacts")
        connector.describe("leads")
        connector.describe("companies")  # the third: api-usage=3/3
        assert connector.client.usage is not None and connector.client.usage.remaining == 0
        served_before = sandbox.usage()[0]
        with pytest.raises(RateLimited) as raised:
            connector.describe("deals")
        assert raised.value.code == "BUDGET" and raised.value.retry_after > 3000
        assert sandbox.usage()[0] == served_before  # refused locally, nothing sent


# --- client credentials and instance URLs ------------------------------------------------


def test_client_credentials_sign_in_and_sign_in_again_on_401(org: Org) -> None:
    app = org.sandbox.org.tokens.default_app
    credentials = {"client_id": app.client_id, "client_secret": app.client_secret}
    connector = org.connector(credentials, client_id=None, client_secret=None)
    assert connector.describe("contacts")
    org.sandbox.org.tokens.expire_sessions()
    assert connector.describe("leads")


def test_client_credentials_refused_is_an_auth_error(org: Org) -> None:
    app = org.sandbox.org.tokens.default_app
    credentials = {"client_id": app.client_id, "client_secret": "wrong"}
    with pytest.raises(AuthError):
        org.connector(credentials).describe("contacts")


def test_credentials_without_a_session_or_an_app_are_a_config_error(org: Org) -> None:
    with pytest.raises(ConfigError):
        org.connector({"refresh_token": "x"})


@pytest.mark.parametrize(
    ("base_url", "credentials", "expected"),
    [
        ("https://acme.my.salesforce.com", {}, "https://acme.my.salesforce.com"),
        # the latest token's instance wins over the base URL (an org that moved)
        (
            "https://acme.my.salesforce.com/",
            {"instance_url": "https://x.salesforce.com"},
            "https://x.salesforce.com",
        ),
        (
            "https://acme.my.salesforce.com/",
            {"instance_url": "https://evil.example.com"},
            "https://acme.my.salesforce.com",
        ),
        ("http://127.0.0.1:8443", {"instance_url": "http://localhost:9"}, "http://localhost:9"),
        (
            "https://acme.my.salesforce.com",
            {"instance_url": "http://127.0.0.1:9"},
            "https://acme.my.salesforce.com",
        ),
        (
            "https://login.salesforce.com",
            {"instance_url": "https://acme.my.salesforce.com/"},
            "https://acme.my.salesforce.com",
        ),
        (
            "https://test.salesforce.com",
            {"instance_url": "https://acme--uat.sandbox.my.salesforce.com"},
            "https://acme--uat.sandbox.my.salesforce.com",
        ),
        ("https://login.salesforce.com", {"instance_url": "https://evil.example.com"}, None),
        ("https://login.salesforce.com", {"instance_url": "http://acme.my.salesforce.com"}, None),
        ("https://login.salesforce.com", {}, None),
    ],
)
def test_instance_url(base_url: str, credentials: dict[str, str], expected: str | None) -> None:
    context = ConnectorContext(
        integration_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        base_url=base_url,
        credentials=credentials,
    )
    if expected is None:
        with pytest.raises(ConfigError):
            instance_url(context)
    else:
        assert instance_url(context) == expected


def test_properties_are_the_custom_object_property_c_and_a_lead_looks_one_up(org: Org) -> None:
    connector = org.connector()
    listing = {"Name": "12 Elm", "Price__c": 450000, "City__c": "Porto", "Status__c": "Sold"}
    (made,) = connector.upsert("properties", [listing], None)
    assert made.outcome is Outcome.CREATED and str(made.remote_id).startswith("a0P")
    lead = {"LastName": "Silva", "Company": "-", "Property__c": made.remote_id}
    (asks,) = connector.upsert("leads", [lead], None)
    assert (org.remote("Lead", str(asks.remote_id)) or {})["Property__c"] == made.remote_id
    found = poll(connector, "properties", None).records
    assert [(r.remote_id, r.properties["Status__c"]) for r in found] == [(made.remote_id, "Sold")]


def test_notes_are_classic_notes_on_their_record_titled_by_their_first_line(org: Org) -> None:
    connector = org.connector()
    (contact,) = connector.upsert("contacts", [person(1)], "Email")
    body = "Prefers a call after 5pm\nand e-mail on Fridays"
    made, refused = connector.upsert(
        "notes", [{"Body": body, "ParentId": contact.remote_id}, {"Body": "on nothing"}], None
    )
    assert made.outcome is Outcome.CREATED and str(made.remote_id).startswith("002")
    assert refused.outcome is Outcome.ERROR  # a Note must hang on a record
    note = org.remote("Note", str(made.remote_id)) or {}
    assert (note["ParentId"], note["Title"], note["Body"]) == (
        contact.remote_id,
        "Prefers a call after 5pm",
        body,
    )
    connector.upsert("notes", [{"Id": made.remote_id, "Body": "changed"}], None)
    found = poll(connector, "notes", None).records
    assert [(r.remote_id, r.properties["Body"]) for r in found] == [(made.remote_id, "changed")]
