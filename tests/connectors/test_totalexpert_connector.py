"""Total Expert connector behaviour beyond the contract, against the sandbox over a socket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from crmsync.connectors.base import (
    JourneyConnector,
    Outcome,
    TimelineConnector,
    TimelineEntry,
)
from crmsync.connectors.errors import InvalidRecord
from crmsync.connectors.http import TokenSet
from crmsync.connectors.totalexpert.client import TotalExpertClient
from crmsync.connectors.totalexpert.connector import TotalExpertConnector
from tests.connectors.contract.targets import TotalExpertTarget

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def served() -> Iterator[TotalExpertTarget]:
    target = TotalExpertTarget()
    yield target
    target.stop()


@pytest.fixture
def target(served: TotalExpertTarget) -> TotalExpertTarget:
    served.reset()
    return served


@pytest.fixture
def connector(target: TotalExpertTarget) -> TotalExpertConnector:
    built = target.connector()
    assert isinstance(built, TotalExpertConnector)
    return built


def api(target: TotalExpertTarget, path: str) -> Any:
    answer = target.control.get(path, headers={"Authorization": f"Bearer {target._token()}"})
    answer.raise_for_status()
    return answer.json()


def contact(n: int, **extra: Any) -> dict[str, Any]:
    return {"first_name": f"F{n}", "last_name": "L", "email": f"c{n}@x.io", "owner.id": 1, **extra}


def test_a_duplicate_answer_is_an_update_of_the_existing_contact(
    target: TotalExpertTarget, connector: TotalExpertConnector
) -> None:
    first = connector.upsert("contacts", [contact(1)], None)[0]
    again = connector.upsert("contacts", [contact(1, city="Reno")], None)[0]
    assert (first.outcome, again.outcome) == (Outcome.CREATED, Outcome.UPDATED)
    assert again.remote_id == first.remote_id
    assert target.sandbox.counts()["contacts"] == 1
    assert api(target, f"/v1/contacts/{first.remote_id}")["city"] == "Reno"


def test_match_key_finds_the_contact_even_when_its_names_changed(
    target: TotalExpertTarget, connector: TotalExpertConnector
) -> None:
    first = connector.upsert("contacts", [contact(2, external_id="crm-2")], "external_id")[0]
    renamed = {**contact(2, external_id="crm-2"), "first_name": "Other", "email": "new@x.io"}
    again = connector.upsert("contacts", [renamed], "external_id")[0]
    assert again.outcome is Outcome.UPDATED and again.remote_id == first.remote_id
    assert target.sandbox.counts()["contacts"] == 1


def test_custom_fields_are_written_and_described(
    target: TotalExpertTarget, connector: TotalExpertConnector
) -> None:
    made = connector.upsert("contacts", [contact(3, loan_goal="refinance")], "email")[0]
    stored = api(target, f"/v1/contacts/{made.remote_id}")
    assert {"field_name": "loan_goal", "value": "refinance"} in stored["custom"]
    fields = {f.name: f for f in connector.describe("contacts")}
    assert fields["loan_goal"].custom and not fields["email"].custom
    assert fields["owner.id"].required
    # every contact definition is described, carried by a contact or not; loan fields not
    assert fields["first_time_buyer"].custom and "rate_lock_days" not in fields
    refused = connector.upsert("contacts", [contact(9, undefined_field="x")], "email")[0]
    assert isinstance(refused.error, InvalidRecord)


def test_timeline_entries_become_contact_notes(
    target: TotalExpertTarget, connector: TotalExpertConnector
) -> None:
    assert isinstance(connector, TimelineConnector)
    made = str(connector.upsert("contacts", [contact(4)], "email")[0].remote_id)
    results = connector.push_timeline(
        [
            TimelineEntry("contacts", made, "note", NOW, "Call back", "Asked for rates"),
            TimelineEntry("contacts", made, "email_sent", NOW, body="Rate sheet"),
            TimelineEntry("deals", "5", "note", NOW, "No deals here"),
            TimelineEntry("contacts", "999999", "note", NOW, "Nobody"),
        ]
    )
    assert [r.outcome for r in results] == [
        Outcome.CREATED,
        Outcome.CREATED,
        Outcome.ERROR,
        Outcome.ERROR,
    ]
    notes = api(target, f"/v1/contact-notes?filter=contact_id={made}")["items"]
    assert sorted(n["title"] for n in notes) == ["Call back", "email sent"]


def test_notes_are_owned_by_the_owner_of_their_contact(
    target: TotalExpertTarget, connector: TotalExpertConnector
) -> None:
    # Total Expert refuses a note from an admin token without `owner`, and the owner
    # must own the contact: the connector sends the contact's owner.
    made = str(connector.upsert("contacts", [contact(6, **{"owner.id": 2})], "email")[0].remote_id)
    entries = [
        TimelineEntry("contacts", made, "note", NOW, "First"),
        TimelineEntry("contacts", made, "note", NOW, "Second"),
    ]
    results = connector.push_timeline(entries)
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.CREATED]
    notes = api(target, f"/v1/contact-notes?filter=contact_id={made}")["items"]
    assert [n["owner"]["id"] for n in notes] == [2, 2]


def test_contacts_created_without_a_source_get_crmsync_as_source(
    target: TotalExpertTarget, connector: TotalExpertConnector
) -> None:
    plain, sourced = connector.upsert("contacts", [contact(7), contact(8, source="web")], None)
    assert api(target, f"/v1/contacts/{plain.remote_id}")["source"] == "crmsync"
    assert api(target, f"/v1/contacts/{sourced.remote_id}")["source"] == "web"


def test_journeys_are_listed_and_triggered(
    target: TotalExpertTarget, connector: TotalExpertConnector
) -> None:
    assert isinstance(connector, JourneyConnector)
    journeys = {j.remote_id: j for j in connector.journeys()}
    assert len(journeys) == 3
    assert [j.remote_id for j in journeys.values() if not j.active] == ["103"]
    made = str(connector.upsert("contacts", [contact(5)], "email")[0].remote_id)
    connector.trigger_journey("101", made)
    connector.trigger_journey("101", made)  # already enrolled: not an error
    enrolled = api(target, "/v1/journeys/101/enrollments")["items"]
    assert [str(e["contact"]["id"]) for e in enrolled if e["status"] == "active"] == [made]
    with pytest.raises(InvalidRecord):
        connector.trigger_journey("103", made)


def test_one_token_serves_many_calls(target: TotalExpertTarget) -> None:
    saved: list[TokenSet] = []
    connector = target.connector(on_refresh=saved.append)
    for n in range(3):
        connector.upsert("contacts", [contact(10 + n)], "email")
    assert len(saved) == 1


def test_changes_page_through_contacts_sharing_a_second(
    target: TotalExpertTarget, connector: TotalExpertConnector
) -> None:
    made = connector.upsert("contacts", [contact(20 + n) for n in range(7)], None)
    small = TotalExpertConnector(TotalExpertClient(connector.client.http, page_size=3))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = small.changes("contacts", cursor)
        pages += 1
        seen += [r.remote_id for r in page.records]
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert pages >= 3
    assert sorted(seen) == sorted(str(r.remote_id) for r in made)
