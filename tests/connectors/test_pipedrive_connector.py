"""Pipedrive connector behaviour beyond the contract, against the sandbox over a socket."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from crmsync.connectors.base import ChangeKind, Outcome
from crmsync.connectors.errors import RateLimited
from crmsync.connectors.http.profiles import profile
from crmsync.connectors.http.ratelimit import MemoryWindows, RateLimiter
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.pipedrive import spec
from crmsync.connectors.pipedrive.client import PipedriveClient
from crmsync.connectors.pipedrive.connector import PipedriveConnector
from crmsync.connectors.pipedrive.limits import header_watch, until_midnight
from crmsync.connectors.registry import ConnectorContext, build
from crmsync.integrations.providers import provider
from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.pipedrive.sandbox import PipedriveSandbox
from crmsync.sandbox.server import SandboxServer
from tests.connectors.conftest import FakeClock
from tests.connectors.contract.targets import PipedriveTarget
from tests.sandbox.conftest import Receiver, receiver  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def served() -> Iterator[PipedriveTarget]:
    target = PipedriveTarget()
    yield target
    target.stop()


@pytest.fixture
def target(served: PipedriveTarget) -> PipedriveTarget:
    served.reset()
    return served


@pytest.fixture
def connector(target: PipedriveTarget) -> PipedriveConnector:
    built = target.connector()
    assert isinstance(built, PipedriveConnector)
    return built


def persons(target: PipedriveTarget) -> list[dict[str, Any]]:
    answer = target._api("GET", "/api/v2/persons")
    return list(answer["data"] or [])


def test_same_email_twice_in_one_batch_makes_one_person(
    target: PipedriveTarget, connector: PipedriveConnector
) -> None:
    batch = [
        {"name": "Ann Lee", "email": "ann@example.com"},
        {"name": "Ann B. Lee", "email": "ANN@example.com "},
        {"name": "Bo", "email": "bo@example.com"},
    ]
    results = connector.upsert("persons", batch, "email")
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.UPDATED, Outcome.CREATED]
    assert results[0].remote_id == results[1].remote_id
    assert target.sandbox.counts()["persons"] == 2
    names = {p["id"]: p["name"] for p in persons(target)}
    assert names[int(str(results[0].remote_id))] == "Ann B. Lee"


def test_existing_person_is_found_by_exact_email_not_by_substring(
    target: PipedriveTarget, connector: PipedriveConnector
) -> None:
    existing = target.change(None, {"name": "Old", "email": "Carol@Example.com"})
    target.change(None, {"name": "Near", "email": "xcarol@example.com"})
    result = connector.upsert("persons", [{"name": "New", "email": "carol@example.com"}], "email")
    assert result[0].outcome is Outcome.UPDATED
    assert result[0].remote_id == str(existing["id"])
    assert target.sandbox.counts()["persons"] == 2


def test_custom_fields_by_label_with_enum_options_as_labels(
    target: PipedriveTarget, connector: PipedriveConnector
) -> None:
    created = target._api(
        "POST",
        "/v1/personFields",
        {"name": "Tier", "field_type": "enum", "options": [{"label": "Gold"}, {"label": "Silver"}]},
    )["data"]
    fields = {f.name: f for f in connector.describe("persons")}
    tier = fields[created["key"]]
    assert (tier.label, tier.custom, tier.type, tier.options) == (
        "Tier",
        True,
        "enumeration",
        ("Gold", "Silver"),
    )
    made = connector.upsert("persons", [{"name": "Dee", "email": "d@x.io", "Tier": "silver"}], None)
    person = target._api("GET", f"/api/v2/persons/{made[0].remote_id}")["data"]
    silver = next(o["id"] for o in created["options"] if o["label"] == "Silver")
    assert person["custom_fields"][created["key"]] == silver
    page = connector.changes("persons", None)
    record = next(r for r in page.records if r.remote_id == made[0].remote_id)
    assert record.properties["Tier"] == "Silver" and record.properties[created["key"]] == "Silver"


def test_typed_custom_fields_are_sent_in_the_shapes_v2_requires(
    target: PipedriveTarget, connector: PipedriveConnector
) -> None:
    # v2 refuses a bare number for a monetary field, a label string for a set and a
    # numeric string for a double; the connector converts by the field's type.
    made_fields = {
        name: target._api("POST", "/v1/dealFields", {"name": name, **extra})["data"]
        for name, extra in (
            ("Fee", {"field_type": "monetary"}),
            ("Tags", {"field_type": "set", "options": [{"label": "A"}, {"label": "B"}]}),
            ("Score", {"field_type": "double"}),
        )
    }
    payload = {"title": "Loan", "currency": "EUR", "Fee": 1200, "Tags": "a,B", "Score": "4.5"}
    result = connector.upsert("deals", [payload], None)[0]
    assert result.ok, result.error
    deal = target._api("GET", f"/api/v2/deals/{result.remote_id}")["data"]["custom_fields"]
    ids = [o["id"] for o in made_fields["Tags"]["options"]]
    assert deal[made_fields["Fee"]["key"]] == {"value": 1200, "currency": "EUR"}
    assert deal[made_fields["Tags"]["key"]] == ids
    assert deal[made_fields["Score"]["key"]] == 4.5
    record = next(r for r in connector.changes("deals", None).records)
    assert (record.properties["Fee"], record.properties["Tags"]) == (1200, ["A", "B"])


def test_unknown_custom_key_fails_that_payload_only(connector: PipedriveConnector) -> None:
    results = connector.upsert(
        "persons", [{"name": "Ok"}, {"name": "Bad", "f" * 40: "x"}, {"name": "Ok 2"}], None
    )
    assert [r.ok for r in results] == [True, False, True]


def test_notes_and_leads_go_through_v1_and_are_polled_from_recents(
    target: PipedriveTarget, connector: PipedriveConnector
) -> None:
    person = connector.upsert("persons", [{"name": "Eve"}], None)[0].remote_id
    assert person is not None
    note = connector.upsert("notes", [{"content": "called", "person_id": int(person)}], None)[0]
    lead = connector.upsert("leads", [{"title": "Eve lead", "person_id": int(person)}], "title")[0]
    assert note.outcome is Outcome.CREATED and lead.outcome is Outcome.CREATED
    again = connector.upsert("leads", [{"title": "eve LEAD", "person_id": int(person)}], "title")
    assert again[0].outcome is Outcome.UPDATED and again[0].remote_id == lead.remote_id
    page = connector.changes("notes", None)
    assert [r.properties["content"] for r in page.records] == ["called"]
    connector.delete("notes", [str(note.remote_id)])
    later = connector.changes("notes", page.next_cursor)
    assert [d.remote_id for d in later.deletions] == [note.remote_id]


def test_a_deal_is_found_by_its_title_before_a_new_one_is_made(
    connector: PipedriveConnector,
) -> None:
    assert connector.capabilities.of("deals").upsert_keys == ("title",)  # the sync's match key
    made = connector.upsert("deals", [{"title": "12 Elm Street", "value": 100}], "title")[0]
    other = connector.upsert("deals", [{"title": "12 Elm"}], "title")[0]  # a word match only
    again = connector.upsert("deals", [{"title": "12 elm STREET", "value": 200}], "title")[0]
    assert (made.outcome, other.outcome) == (Outcome.CREATED, Outcome.CREATED)
    assert (again.outcome, again.remote_id) == (Outcome.UPDATED, made.remote_id)


def test_changes_page_through_a_second_shared_by_more_than_a_page(
    target: PipedriveTarget, connector: PipedriveConnector
) -> None:
    made = connector.upsert("persons", [{"name": f"P{n}"} for n in range(7)], None)
    # pages of three: the seven persons share one or two seconds
    small = PipedriveConnector(
        PipedriveClient(connector.client.http, connector.client.search_http, page_size=3)
    )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = small.changes("persons", cursor)
        pages += 1
        seen += [r.remote_id for r in page.records]
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert pages >= 3
    assert sorted(seen) == sorted(str(r.remote_id) for r in made)


def answer(path: str, **headers: str) -> httpx.Response:
    return httpx.Response(200, headers=headers, request=httpx.Request("GET", f"https://x{path}"))


def limiter(name: str, clock: FakeClock) -> RateLimiter:
    return RateLimiter(profile(name), name, MemoryWindows(), clock=clock, sleep=clock.sleep)


def test_spent_windows_in_the_headers_hold_the_right_limiter() -> None:
    clock = FakeClock()
    general = limiter("pipedrive-api-token-growth", clock)
    search = limiter("pipedrive-search", clock)
    watch = header_watch(general, search, clock)
    watch(answer("/api/v2/persons", **{"x-ratelimit-remaining": "3", "x-ratelimit-reset": "2"}))
    assert (general.acquire(), search.acquire()) == (0, 0)
    watch(
        answer("/api/v2/persons/search", **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": "2"})
    )
    assert general.acquire() == 0
    assert search.acquire() >= 2


def test_spent_daily_budget_holds_until_midnight_utc() -> None:
    clock = FakeClock(1_700_000_000.0)  # 2023-11-14 22:13:20 UTC
    general = limiter("pipedrive-api-token-growth", clock)
    watch = header_watch(general, None, clock)
    watch(answer("/v1/persons", **{"x-daily-ratelimit-token-remaining": "0"}))
    assert until_midnight(clock()) == 6400
    # far longer than a call may wait: the worker reschedules the job
    with pytest.raises(RateLimited) as raised:
        general.acquire()
    assert raised.value.retry_after >= 6400


def test_oauth_app_of_the_provider_list_completes_the_code_flow(target: PipedriveTarget) -> None:
    app = provider("pipedrive").oauth
    assert app is not None and not app.pkce
    real = app.authorize_url(spec.API_URL, "cid", "https://x/cb", "st", None)
    assert real.startswith("https://oauth.pipedrive.com/oauth/authorize?")
    oauth = target.sandbox.oauth
    page = app.authorize_url(target.url, oauth.client_id, "http://127.0.0.1:9/cb", "st", None)
    approved = target.control.get(page.removeprefix(target.url))
    code = parse_qs(urlparse(approved.headers["location"]).query)["code"][0]
    endpoint = app.token_endpoint(target.url, oauth.client_id, Secret(oauth.client_secret))
    token = endpoint.exchange_code(code, "http://127.0.0.1:9/cb")
    assert token.refresh_token is not None and token.extras["api_domain"]
    fresh = endpoint(token)
    assert fresh.access_token != token.access_token
    endpoint.http.close()


@pytest.mark.parametrize(
    ("credentials", "host"),
    [
        ({"access_token": "t", "api_domain": "https://acme.pipedrive.com"}, "acme.pipedrive.com"),
        ({"access_token": "t", "api_domain": "https://evil.example.com"}, "api.pipedrive.com"),
        ({"access_token": "t", "api_domain": "http://acme.pipedrive.com"}, "api.pipedrive.com"),
        ({"api_token": "t", "api_domain": "https://acme.pipedrive.com"}, "api.pipedrive.com"),
        ({"access_token": "t"}, "api.pipedrive.com"),
    ],
)
def test_oauth_calls_go_to_the_company_domain_of_the_grant(
    credentials: dict[str, Any], host: str
) -> None:
    context = ConnectorContext(
        integration_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        base_url=spec.API_URL,
        credentials=credentials,
    )
    connector = build("pipedrive", context)
    assert isinstance(connector, PipedriveConnector)
    assert connector.client.http.client.base_url.host == host
    connector.close()


def test_v1_deliveries_of_the_sandbox_verify_and_parse(
    receiver: Receiver,  # noqa: F811  (the imported fixture)
) -> None:
    sandbox = PipedriveSandbox(SandboxOptions(rate_profile="off"), webhook_version="1.0")
    with SandboxServer([sandbox]) as server:
        control = httpx.Client(base_url=server.url("pipedrive"), timeout=10)
        hook = {"url": receiver.url, "basic_auth": ["crmsync", "pw"]}
        control.post("/_sandbox/webhooks", json=hook).raise_for_status()
        body = {"object_type": "deals", "record_id": None, "fields": {"title": "Big"}}
        made = control.post("/_sandbox/change", json=body).json()
        headers, delivery = receiver.wait(1)[0]
        control.close()
    context = ConnectorContext(
        integration_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        base_url=server.url("pipedrive"),
        credentials={"api_token": sandbox.oauth.api_token},
        webhook_secret=Secret("pw"),
    )
    connector = build("pipedrive", context)
    assert connector.verify_webhook(headers, delivery)
    [change] = connector.parse_webhook(delivery)
    assert (change.object_type, change.remote_id, change.kind) == (
        "deals",
        str(made["id"]),
        ChangeKind.CREATED,
    )
    assert change.event_id and change.occurred_at is not None
    assert change.properties["title"] == "Big"
    connector.close()


def test_read_by_ids_leaves_out_deleted_and_unknown_persons(
    connector: PipedriveConnector, target: PipedriveTarget
) -> None:
    made = connector.upsert(
        "contacts",
        [{"email": "r1@x.com", "last_name": "One"}, {"email": "r2@x.com", "last_name": "Two"}],
        "email",
    )
    ids = [str(r.remote_id) for r in made]
    connector.delete("contacts", [ids[1]])
    found = connector.read("contacts", [*ids, "999999"])
    assert [(r.remote_id, r.properties["last_name"]) for r in found] == [(ids[0], "One")]
