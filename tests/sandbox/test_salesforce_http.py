"""The Salesforce sandbox over plain HTTP (httpx on a real socket): collections,
queryAll and deletions, replication resources, limits, OAuth and error shapes."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from defusedxml import ElementTree

from crmsync.sandbox.salesforce import OrgSettings, Sandbox
from crmsync.sandbox.salesforce.clock import ManualClock
from crmsync.sandbox.salesforce.values import format_datetime

V = "/services/data/v59.0"
Serve = Callable[..., Any]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make(serve: Serve, clock: ManualClock) -> Iterator[Callable[..., tuple[Sandbox, httpx.Client]]]:
    clients: list[httpx.Client] = []

    def start(**kwargs: Any) -> tuple[Sandbox, httpx.Client]:
        sandbox = Sandbox(clock=clock, **kwargs)
        server = serve(sandbox)
        client = httpx.Client(
            base_url=server.url("salesforce"),
            headers={"Authorization": f"Bearer {sandbox.org.tokens.default_token}"},
        )
        clients.append(client)
        return sandbox, client

    yield start
    for client in clients:
        client.close()


@pytest.fixture
def api(make: Callable[..., tuple[Sandbox, httpx.Client]]) -> tuple[Sandbox, httpx.Client]:
    return make()


def _query(client: httpx.Client, soql: str, resource: str = "query") -> dict[str, Any]:
    response = client.get(f"{V}/{resource}", params={"q": soql})
    assert response.status_code == 200, response.text
    return response.json()


def _create(client: httpx.Client, sobject: str, **fields: Any) -> str:
    response = client.post(f"{V}/sobjects/{sobject}", json=fields)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


# ---- sObject Collections -------------------------------------------------------------


def test_collection_create_reports_each_record_in_order(
    api: tuple[Sandbox, httpx.Client],
) -> None:
    sandbox, client = api
    records = [
        {"attributes": {"type": "Contact"}, "LastName": "One"},
        {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
        {"attributes": {"type": "Account"}, "Name": "Acme"},
    ]

    response = client.post(f"{V}/composite/sobjects", json={"allOrNone": False, "records": records})

    results = response.json()
    assert response.status_code == 200
    assert [r["success"] for r in results] == [True, False, True]
    assert results[0]["id"].startswith("003") and results[2]["id"].startswith("001")
    assert results[1]["errors"] == [
        {
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [LastName]",
            "fields": ["LastName"],
        }
    ]
    assert sandbox.counts()["Contact"] == 1 and sandbox.counts()["Account"] == 1


def test_collection_all_or_none_rolls_back_every_write(
    api: tuple[Sandbox, httpx.Client],
) -> None:
    sandbox, client = api
    existing = _create(client, "Contact", LastName="Kept", External_Id__c="e-1")
    records = [
        {"attributes": {"type": "Contact"}, "LastName": "New"},
        {"attributes": {"type": "Contact"}, "LastName": "Dup", "External_Id__c": "e-1"},
    ]

    results = client.post(
        f"{V}/composite/sobjects", json={"allOrNone": True, "records": records}
    ).json()

    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert existing in results[1]["errors"][0]["message"]
    assert sandbox.counts()["Contact"] == 1


def test_collection_rolls_back_updates_and_deletes_too(
    api: tuple[Sandbox, httpx.Client],
) -> None:
    _, client = api
    first = _create(client, "Contact", LastName="First")
    second = _create(client, "Contact", LastName="Second")
    records = [
        {"attributes": {"type": "Contact"}, "id": first, "LastName": "Changed"},
        {"attributes": {"type": "Contact"}, "id": second, "Bogus__c": 1},
    ]

    updated = client.patch(
        f"{V}/composite/sobjects", json={"allOrNone": True, "records": records}
    ).json()
    deleted = client.delete(
        f"{V}/composite/sobjects",
        params={"ids": f"{first},001000000000000AAA", "allOrNone": "true"},
    )

    assert [r["success"] for r in updated] == [False, False]
    assert updated[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert client.get(f"{V}/sobjects/Contact/{first}").json()["LastName"] == "First"
    assert [r["success"] for r in deleted.json()] == [False, False]
    assert _query(client, "SELECT COUNT() FROM Contact")["totalSize"] == 2


def test_collection_update_delete_and_upsert(api: tuple[Sandbox, httpx.Client]) -> None:
    _, client = api
    ids = [_create(client, "Lead", LastName=f"L{i}", Company="Acme") for i in range(3)]

    updates = client.patch(
        f"{V}/composite/sobjects",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "id": i, "Status": "Working - Contacted"}
                for i in ids
            ]
        },
    ).json()
    deletes = client.delete(f"{V}/composite/sobjects", params={"ids": ",".join(ids[:2])}).json()
    upserts = [
        client.patch(
            f"{V}/composite/sobjects/Lead/External_Id__c",
            json={"records": [{"attributes": {"type": "Lead"}, "External_Id__c": "x-1", **body}]},
        ).json()[0]
        for body in ({"LastName": "A", "Company": "C"}, {"LastName": "B"})
    ]

    assert all(r["success"] for r in updates) and [r["id"] for r in deletes] == ids[:2]
    assert [r["created"] for r in upserts] == [True, False]
    assert upserts[0]["id"] == upserts[1]["id"]
    rows = _query(client, "SELECT Status, LastName FROM Lead ORDER BY LastName")["records"]
    assert [(r["LastName"], r["Status"]) for r in rows] == [
        ("B", "Open - Not Contacted"),
        ("L2", "Working - Contacted"),
    ]


def test_collection_items_that_are_not_records_fail_alone(
    api: tuple[Sandbox, httpx.Client],
) -> None:
    _, client = api
    records = [
        "not a record",
        {"attributes": {"type": "Contact"}, "LastName": "Fine"},
        7,
        {"LastName": "No type"},
        {"attributes": {"type": "Widget"}, "Name": "x"},
    ]

    results = client.post(f"{V}/composite/sobjects", json={"records": records}).json()

    assert [r["success"] for r in results] == [False, True, False, False, False]
    assert [r["errors"][0]["statusCode"] for r in results if not r["success"]] == [
        "JSON_PARSER_ERROR",
        "JSON_PARSER_ERROR",
        "INVALID_TYPE",
        "INVALID_TYPE",
    ]


def test_collection_refuses_more_than_200_records(api: tuple[Sandbox, httpx.Client]) -> None:
    _, client = api
    records = [{"attributes": {"type": "Contact"}, "LastName": str(i)} for i in range(201)]

    response = client.post(f"{V}/composite/sobjects", json={"records": records})

    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


# ---- SOQL, queryAll and polling ---------------------------------------------------------


def test_query_all_includes_deleted_records_flagged(api: tuple[Sandbox, httpx.Client]) -> None:
    _, client = api
    kept = _create(client, "Account", Name="Kept")
    gone = _create(client, "Account", Name="Gone")
    assert client.delete(f"{V}/sobjects/Account/{gone}").status_code == 204

    live = _query(client, "SELECT Id, IsDeleted FROM Account")
    every = _query(client, "SELECT Id, IsDeleted FROM Account ORDER BY Name", "queryAll")
    only_deleted = _query(client, "SELECT Id FROM Account WHERE IsDeleted = true", "queryAll")

    assert [r["Id"] for r in live["records"]] == [kept]
    assert [(r["Id"], r["IsDeleted"]) for r in every["records"]] == [(gone, True), (kept, False)]
    assert [r["Id"] for r in only_deleted["records"]] == [gone]


def test_soql_polls_by_system_modstamp_with_datetime_literals(
    api: tuple[Sandbox, httpx.Client],
    clock: ManualClock,
) -> None:
    _, client = api
    _create(client, "Contact", LastName="Old")
    boundary = clock.advance(minutes=10)
    clock.advance(seconds=1)
    fresh = _create(client, "Contact", LastName="Fresh")
    # SOQL date-time literals are unquoted; Z and +00:00 offsets are both accepted.
    since_z = boundary.strftime(
        "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > "
        "%Y-%m-%dT%H:%M:%SZ ORDER BY SystemModstamp ASC"
    )
    since_offset = boundary.strftime(
        "SELECT Id FROM Contact WHERE LastModifiedDate >= %Y-%m-%dT%H:%M:%S+00:00"
    )

    after = _query(client, since_z)
    with_offset = _query(client, since_offset)

    assert [r["Id"] for r in after["records"]] == [fresh]
    assert after["records"][0]["SystemModstamp"] == format_datetime(boundary + timedelta(seconds=1))
    assert [r["Id"] for r in with_offset["records"]] == [fresh]


def test_query_where_and_order_limit_count(api: tuple[Sandbox, httpx.Client]) -> None:
    _, client = api
    for name, employees in [("Alpha", 10), ("beta", 50), ("Gamma", None), ("Delta", 500)]:
        fields: dict[str, Any] = {"Name": name}
        if employees is not None:
            fields["NumberOfEmployees"] = employees
        _create(client, "Account", **fields)

    rows = _query(
        client,
        "SELECT Name FROM Account WHERE NumberOfEmployees >= 50 "
        "AND Name != 'delta' ORDER BY Name DESC LIMIT 5",
    )["records"]
    nulls = _query(client, "SELECT Name FROM Account ORDER BY NumberOfEmployees")["records"]
    counted = _query(
        client,
        "SELECT COUNT() FROM Account WHERE Name IN ('ALPHA', 'Beta') OR NumberOfEmployees = null",
    )

    assert [r["Name"] for r in rows] == ["beta"]
    assert [r["Name"] for r in nulls] == ["Gamma", "Alpha", "beta", "Delta"]
    assert counted == {"totalSize": 3, "done": True, "records": []}


def test_next_records_url_pages_then_expires(api: tuple[Sandbox, httpx.Client]) -> None:
    _, client = api
    for i in range(250):
        _create(client, "Task", Subject=f"T{i:03d}")

    first = client.get(
        f"{V}/queryAll",
        params={"q": "SELECT Subject FROM Task"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    ).json()
    second = client.get(first["nextRecordsUrl"]).json()
    again = client.get(first["nextRecordsUrl"])

    assert first["nextRecordsUrl"].startswith(f"{V}/queryAll/01g")
    assert first["nextRecordsUrl"].endswith("-200")
    assert len(first["records"]) == 200 and second["done"] is True
    assert "nextRecordsUrl" not in second and len(second["records"]) == 50
    assert again.status_code == 400
    assert again.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_updated_and_deleted_cover_whole_minutes(
    api: tuple[Sandbox, httpx.Client],
    clock: ManualClock,
) -> None:
    _, client = api
    start = clock()
    changed = _create(client, "Contact", LastName="Changed")
    gone = _create(client, "Contact", LastName="Gone")
    clock.advance(minutes=2, seconds=30)
    client.delete(f"{V}/sobjects/Contact/{gone}")
    this_minute = _create(client, "Contact", LastName="Too recent")
    window = {"start": format_datetime(start), "end": format_datetime(clock())}

    updated = client.get(f"{V}/sobjects/Contact/updated/", params=window).json()
    deleted = client.get(f"{V}/sobjects/Contact/deleted/", params=window).json()
    too_old = client.get(
        f"{V}/sobjects/Contact/updated/",
        params={"start": format_datetime(start - timedelta(days=31)), "end": window["end"]},
    )

    assert updated["ids"] == [changed]
    assert this_minute not in updated["ids"]
    assert updated["latestDateCovered"] == format_datetime(start + timedelta(minutes=2))
    assert deleted["deletedRecords"] == []
    assert deleted["latestDateCovered"] == updated["latestDateCovered"]
    assert too_old.status_code == 400
    assert too_old.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    clock.advance(minutes=1)
    later = {"start": window["start"], "end": format_datetime(clock())}
    deleted = client.get(f"{V}/sobjects/Contact/deleted/", params=later).json()
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]


# ---- single-record resources ------------------------------------------------------------


def test_upsert_status_depends_on_api_version(api: tuple[Sandbox, httpx.Client]) -> None:
    _, client = api
    created = client.patch(
        "/services/data/v45.0/sobjects/Account/External_Id__c/a-1", json={"Name": "Acme"}
    )
    old = client.patch(
        "/services/data/v45.0/sobjects/Account/External_Id__c/a-1", json={"Name": "Acme 2"}
    )
    new = client.patch(f"{V}/sobjects/Account/External_Id__c/A-1", json={"Name": "Acme 3"})

    assert created.status_code == 201 and created.json()["created"] is True
    assert old.status_code == 204 and old.content == b""
    assert new.status_code == 200 and new.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }


def test_upsert_on_a_non_unique_key_with_two_matches_answers_300(
    api: tuple[Sandbox, httpx.Client],
) -> None:
    _, client = api
    ids = [_create(client, "Contact", LastName=n, Legacy_Id__c="L-9") for n in "AB"]

    response = client.patch(f"{V}/sobjects/Contact/Legacy_Id__c/L-9", json={"Title": "x"})
    not_a_key = client.patch(f"{V}/sobjects/Contact/LastName/A", json={"Title": "x"})

    assert response.status_code == 300
    assert sorted(response.json()) == sorted(f"{V}/sobjects/Contact/{i}" for i in ids)
    assert not_a_key.status_code == 404 and not_a_key.json()[0]["errorCode"] == "NOT_FOUND"


def test_get_with_fields_and_fifteen_character_ids(api: tuple[Sandbox, httpx.Client]) -> None:
    _, client = api
    record_id = _create(client, "Lead", LastName="Short", Company="Acme")

    record = client.get(
        f"{V}/sobjects/Lead/{record_id[:15]}", params={"fields": "lastname,Company"}
    ).json()

    assert record == {
        "attributes": {"type": "Lead", "url": f"{V}/sobjects/Lead/{record_id}"},
        "LastName": "Short",
        "Company": "Acme",
    }


def test_writes_check_field_types_and_read_only_fields(
    api: tuple[Sandbox, httpx.Client],
) -> None:
    _, client = api
    wrong_type = client.post(
        f"{V}/sobjects/Account", json={"Name": "A", "NumberOfEmployees": "many"}
    )
    read_only = client.post(
        f"{V}/sobjects/Account", json={"Name": "A", "CreatedDate": "2020-01-01"}
    )
    not_json = client.post(f"{V}/sobjects/Account", content=b"{oops")

    assert wrong_type.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert read_only.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert not_json.status_code == 400 and not_json.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_discovery_paths_and_salesforce_404_and_405(api: tuple[Sandbox, httpx.Client]) -> None:
    _, client = api
    versions = httpx.get(str(client.base_url) + "/services/data/")
    resources = client.get(f"{V}/")
    missing = client.get(f"{V}/sobjects/Shoe__c/describe")
    wrong_method = client.put(f"{V}/sobjects/Contact/003000000000000AAA", json={})

    assert (
        versions.status_code == 200
        and {"version": "59.0", "label": "Winter '24", "url": "/services/data/v59.0"}
        in versions.json()
    )
    assert resources.json()["query"] == f"{V}/query"
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"
    nowhere = client.get("/services/apexrest/nothing")
    assert nowhere.status_code == 404 and nowhere.json()[0]["errorCode"] == "NOT_FOUND"
    assert "Sforce-Limit-Info" in nowhere.headers
    assert wrong_method.status_code == 405
    assert wrong_method.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


# ---- limits --------------------------------------------------------------------------


def test_daily_allocation_runs_out_with_request_limit_exceeded(
    make: Callable[..., tuple[Sandbox, httpx.Client]],
) -> None:
    _, client = make(daily_allocation=5)

    free = [client.get("/services/data/") for _ in range(3)]
    answers = [client.get(f"{V}/limits") for _ in range(6)]

    assert [f.status_code for f in free] == [200] * 3
    assert "Sforce-Limit-Info" not in free[0].headers

    assert [a.status_code for a in answers] == [200] * 5 + [403]
    assert [a.headers["Sforce-Limit-Info"] for a in answers[:5]] == [
        f"api-usage={n}/5" for n in range(1, 6)
    ]
    assert answers[0].json()["DailyApiRequests"] == {"Max": 5, "Remaining": 4}
    assert answers[5].json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert answers[5].headers["Sforce-Limit-Info"] == "api-usage=5/5"


def test_edition_profiles_and_unmetered_usage(
    make: Callable[..., tuple[Sandbox, httpx.Client]],
) -> None:
    from crmsync.sandbox.base import SandboxOptions

    developer, dev_client = make(options=SandboxOptions(rate_profile="developer"))
    _, off_client = make(options=SandboxOptions(rate_profile="off"))

    dev = dev_client.get(f"{V}/limits")
    off = [off_client.get(f"{V}/sobjects") for _ in range(3)]

    assert dev.json()["DailyApiRequests"]["Max"] == 15_000
    assert developer.usage() == (1, 15_000)
    assert off[-1].headers["Sforce-Limit-Info"] == "api-usage=3/110000"


def test_injected_server_error_uses_the_error_array(api: tuple[Sandbox, httpx.Client]) -> None:
    _, client = api
    forced = client.post("/_sandbox/faults", json={"kind": "503", "count": 1})
    failed = client.get(f"{V}/sobjects")
    healthy = client.get(f"{V}/sobjects")

    assert forced.status_code == 200
    assert failed.status_code == 503
    assert failed.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert failed.headers["Sforce-Limit-Info"].startswith("api-usage=")
    assert healthy.status_code == 200


# ---- OAuth -----------------------------------------------------------------------------


def _authorize(client: httpx.Client, sandbox: Sandbox, **extra: str) -> str:
    app = sandbox.org.tokens.default_app
    response = client.get(
        "/services/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": "http://127.0.0.1:9/callback",
            "state": "s-1",
            "scope": "api refresh_token",
            **extra,
        },
    )
    assert response.status_code == 302
    location = urlparse(response.headers["location"])
    query = parse_qs(location.query)
    assert location.path == "/callback" and query["state"] == ["s-1"]
    return query["code"][0]


def test_oauth_web_server_flow_and_refresh(api: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = api
    app = sandbox.org.tokens.default_app
    code = _authorize(client, sandbox)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": "http://127.0.0.1:9/callback",
    }

    token = httpx.post(f"{client.base_url}/services/oauth2/token", data=form).json()
    reused = httpx.post(f"{client.base_url}/services/oauth2/token", data=form)
    refreshed = httpx.post(
        f"{client.base_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
    ).json()

    assert "expires_in" not in token and token["token_type"] == "Bearer"
    assert token["instance_url"] == str(client.base_url)
    assert token["issued_at"].isdigit()
    expected = base64.b64encode(
        hmac.new(
            app.client_secret.encode(), (token["id"] + token["issued_at"]).encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert token["signature"] == expected
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert "refresh_token" not in refreshed
    for access in (token["access_token"], refreshed["access_token"]):
        answer = httpx.get(
            f"{token['instance_url']}{V}/limits", headers={"Authorization": f"Bearer {access}"}
        )
        assert answer.status_code == 200


def test_oauth_rejects_bad_client_secret_grant_and_pkce(
    api: tuple[Sandbox, httpx.Client],
) -> None:
    sandbox, client = api
    app = sandbox.org.tokens.default_app
    url = f"{client.base_url}/services/oauth2/token"
    verifier = "v" * 50
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    )
    code = _authorize(client, sandbox, code_challenge=challenge)
    base = {
        "grant_type": "authorization_code",
        "client_id": app.client_id,
        "redirect_uri": "http://127.0.0.1:9/callback",
    }

    wrong_verifier = httpx.post(url, data={**base, "code": code, "code_verifier": "x" * 50})
    code = _authorize(client, sandbox, code_challenge=challenge)
    pkce = httpx.post(url, data={**base, "code": code, "code_verifier": verifier})
    bad_secret = httpx.post(
        url, data={**base, "code": _authorize(client, sandbox), "client_secret": "nope"}
    )
    unsupported = httpx.post(url, data={"grant_type": "magic"})

    assert wrong_verifier.json()["error"] == "invalid_grant"
    assert pkce.status_code == 200 and "access_token" in pkce.json()
    assert bad_secret.json()["error"] == "invalid_client"
    assert unsupported.json()["error"] == "unsupported_grant_type"


def _client_credentials_token(sandbox: Sandbox, client: httpx.Client) -> str:
    app = sandbox.org.tokens.default_app
    answer = httpx.post(
        f"{client.base_url}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_sessions_time_out_but_the_default_token_does_not(
    make: Callable[..., tuple[Sandbox, httpx.Client]],
    clock: ManualClock,
) -> None:
    sandbox, client = make(settings=OrgSettings(session_seconds=60))
    token = _client_credentials_token(sandbox, client)
    bearer = {"Authorization": f"Bearer {token}"}

    fresh = client.get(f"{V}/limits", headers=bearer)
    clock.advance(seconds=61)
    stale = client.get(f"{V}/limits", headers=bearer)

    assert fresh.status_code == 200
    assert stale.status_code == 401
    assert stale.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert client.get(f"{V}/limits").status_code == 200


def test_revoked_tokens_stop_working(api: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = api
    url = f"{client.base_url}/services/oauth2"
    token = _client_credentials_token(sandbox, client)

    revoked = httpx.post(f"{url}/revoke", data={"token": token})
    again = httpx.post(f"{url}/revoke", data={"token": token})
    after = client.get(f"{V}/limits", headers={"Authorization": f"Bearer {token}"})

    assert revoked.status_code == 200
    assert again.status_code == 400 and again.json()["error"] == "invalid_token"
    assert after.status_code == 401


# ---- sandbox controls ------------------------------------------------------------------


def test_user_change_edits_as_another_user_and_shows_in_polling(
    api: tuple[Sandbox, httpx.Client],
    clock: ManualClock,
) -> None:
    sandbox, client = api
    record_id = _create(client, "Contact", LastName="Before")
    clock.advance(minutes=1)

    changed = client.post(
        "/_sandbox/change",
        json={"object_type": "Contact", "record_id": record_id, "fields": {"LastName": "After"}},
    )
    created = client.post(
        "/_sandbox/change",
        json={"object_type": "lead", "fields": {"LastName": "New", "Company": "Acme"}},
    )
    bad = client.post("/_sandbox/change", json={"object_type": "Contact", "fields": {}})
    record = client.get(f"{V}/sobjects/Contact/{record_id}").json()

    assert changed.status_code == 200 and changed.json()["LastName"] == "After"
    assert created.json()["attributes"]["type"] == "Lead"
    assert bad.status_code == 404
    assert record["LastModifiedById"] == sandbox.org.crm_user != record["CreatedById"]
    assert record["SystemModstamp"] == format_datetime(clock())
    counts = {"Lead": 1, "Contact": 1, "Account": 0, "Opportunity": 0, "Task": 0}
    others = {"Campaign": 0, "CampaignMember": 0, "OpportunityContactRole": 0}
    others |= {"Note": 0, "Property__c": 0}
    assert sandbox.counts() == counts | others


def test_user_change_posts_an_outbound_message_to_registered_targets(
    api: tuple[Sandbox, httpx.Client],
    receiver: Any,
) -> None:
    sandbox, client = api
    registered = client.post(
        "/_sandbox/webhooks", json={"url": receiver.url, "events": ["Contact"]}
    )
    client.post("/_sandbox/change", json={"object_type": "Account", "fields": {"Name": "A"}})
    changed = client.post(
        "/_sandbox/change", json={"object_type": "Contact", "fields": {"LastName": "O'Hara & Co"}}
    ).json()

    ((headers, body),) = receiver.wait(1)

    assert registered.status_code == 201
    assert headers["content-type"].startswith("text/xml") and headers["soapaction"] == '""'
    root = ElementTree.fromstring(body)
    ns = {
        "o": "http://soap.sforce.com/2005/09/outbound",
        "sf": "urn:sobject.enterprise.soap.sforce.com",
    }
    notifications = root.find(".//o:notifications", ns)
    assert notifications is not None
    assert notifications.findtext("o:OrganizationId", namespaces=ns) == sandbox.org.org_id
    (item,) = notifications.findall("o:Notification", ns)
    assert item.findtext("o:Id", namespaces=ns, default="").startswith("04l")
    assert item.findtext("o:sObject/sf:Id", namespaces=ns) == changed["Id"]
    assert item.findtext("o:sObject/sf:LastName", namespaces=ns) == "O'Hara & Co"


def test_benchmark_sample_upserts_200_contacts(api: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = api

    def send(variant: int) -> list[dict[str, Any]]:
        sample = sandbox.upsert_request(3, variant)
        answer = client.request(
            sample.method, sample.path, headers=dict(sample.headers), content=sample.body
        )
        assert answer.status_code == 200
        return list(answer.json())

    first, second = send(0), send(1)

    assert len(first) == sandbox.upsert_request(0).records == 200
    assert all(r["created"] for r in first) and not any(r["created"] for r in second)
    assert (
        _query(client, "SELECT COUNT() FROM Contact WHERE LastName = 'Last3-1'")["totalSize"] == 200
    )


def test_reset_empties_the_org_and_state_reports_usage(
    api: tuple[Sandbox, httpx.Client],
) -> None:
    sandbox, client = api
    for i in range(3):
        _create(client, "Lead", LastName=f"L{i}", Company="C")

    state = client.get("/_sandbox/state").json()
    reset = client.post("/_sandbox/reset").json()

    assert state["counts"]["Lead"] == 3 and state["provider"] == "salesforce"
    assert state["salesforce"]["org_id"] == sandbox.org.org_id
    assert state["salesforce"]["api_usage"]["used"] == 3
    assert reset["counts"]["Lead"] == 0
    assert _query(client, "SELECT COUNT() FROM Lead")["totalSize"] == 0
    assert client.get(f"{V}/limits").status_code == 200


def test_credential_names_instance_url_and_a_working_token(
    api: tuple[Sandbox, httpx.Client],
) -> None:
    sandbox, client = api
    sandbox.base_url = str(client.base_url)
    parts = dict(item.split("=", 1) for item in sandbox.credential().split())

    answer = httpx.get(
        parts["instance_url"] + f"{V}/sobjects",
        headers={"Authorization": f"Bearer {parts['access_token']}"},
    )

    assert answer.status_code == 200
    assert parts["client_id"] == sandbox.org.tokens.default_app.client_id
