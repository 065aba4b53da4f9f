"""HubSpot relations and leads against the sandbox: references as associations v4 (set at
create, replaced on update, read back as ``associations:<type>``), and crmsync leads as
contacts carrying ``hs_lead_status``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crmsync.connectors.base import Outcome
from crmsync.connectors.errors import ConfigError
from crmsync.sandbox.hubspot.schema import CUSTOM_PROPERTY_TYPE_ID
from tests.connectors.contract.targets import HubSpotTarget


@pytest.fixture(scope="module")
def served() -> Iterator[HubSpotTarget]:
    target = HubSpotTarget()
    yield target
    target.stop()


@pytest.fixture
def target(served: HubSpotTarget) -> HubSpotTarget:
    served.reset()
    return served


def _edges(target: HubSpotTarget, from_type: str, from_id: str, to_type: str) -> list[Any]:
    answer = target.control.get(
        f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}",
        headers={"Authorization": f"Bearer {target.sandbox.tokens.private_token}"},
    )
    answer.raise_for_status()
    return [
        (str(r["toObjectId"]), sorted(t["typeId"] for t in r["associationTypes"]))
        for r in answer.json()["results"]
    ]


def _ids(results: list[Any]) -> list[str]:
    assert all(r.ok for r in results), results
    return [str(r.remote_id) for r in results]


def test_a_reference_is_an_association_set_on_create_and_replaced_on_update(
    target: HubSpotTarget,
) -> None:
    connector = target.connector()
    first, second = _ids(
        connector.upsert(
            "contacts", [{"email": "a@example.com"}, {"email": "b@example.com"}], "email"
        )
    )
    (deal,) = _ids(
        connector.upsert("deals", [{"dealname": "D", "associations:contacts": first}], None)
    )
    assert _edges(target, "deals", deal, "contacts") == [(first, [3])]
    updated = connector.upsert(
        "deals", [{"id": deal, "dealname": "D2", "associations:contacts": second}], None
    )
    assert [r.outcome for r in updated] == [Outcome.UPDATED]
    assert _edges(target, "deals", deal, "contacts") == [(second, [3])]
    (read,) = connector.read("deals", [deal])  # type: ignore[attr-defined]
    assert read.properties["associations:contacts"] == second


def test_a_reference_to_a_record_hubspot_lacks_fails_that_record_alone(
    target: HubSpotTarget,
) -> None:
    connector = target.connector()
    results = connector.upsert(
        "deals",
        [{"dealname": "ok"}, {"dealname": "bad", "associations:contacts": "999999"}],
        None,
    )
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.ERROR]


def test_leads_are_contacts_with_a_lead_status(target: HubSpotTarget) -> None:
    connector = target.connector()
    (contact,) = _ids(connector.upsert("contacts", [{"email": "plain@example.com"}], "email"))
    (lead,) = _ids(
        connector.upsert("leads", [{"email": "lead@example.com", "hs_lead_status": "NEW"}], "email")
    )
    assert target.remote(lead) is not None  # a HubSpot contact
    page = connector.changes("leads", None)
    while page.has_more:
        page = connector.changes("leads", page.next_cursor)
    listed = {r.remote_id for r in page.records}
    assert lead in listed and contact not in listed
    connector.delete("leads", [lead])
    assert target.remote(lead) is not None  # the contact stays, only its lead status goes
    page = connector.changes("leads", None)
    assert lead not in {r.remote_id for r in page.records}


CUSTOM = {"custom_objects": {"properties": CUSTOM_PROPERTY_TYPE_ID}}


def test_properties_live_in_the_custom_object_the_integration_names(
    target: HubSpotTarget,
) -> None:
    connector = target.connector(config=CUSTOM)
    (listing,) = _ids(
        connector.upsert(
            "properties", [{"name": "12 Elm", "price": "450000", "status": "available"}], None
        )
    )
    assert {"name", "price", "status"} <= {f.name for f in connector.describe("properties")}
    connector.upsert("properties", [{"id": listing, "status": "sold"}], None)
    page = connector.changes("properties", None)
    assert [(r.remote_id, r.properties["status"]) for r in page.records] == [(listing, "sold")]
    connector.delete("properties", [listing])
    deleted = connector.changes("properties", page.next_cursor)
    assert [d.remote_id for d in deleted.deletions] == [listing]


def test_a_lead_points_at_its_property_by_the_default_association(
    target: HubSpotTarget,
) -> None:
    connector = target.connector(config=CUSTOM)
    first, second = _ids(connector.upsert("properties", [{"name": "A"}, {"name": "B"}], None))
    lead = {"email": "l@example.com", "hs_lead_status": "NEW", "associations:properties": first}
    (contact,) = _ids(connector.upsert("leads", [lead], "email"))
    assert _edges(target, "contacts", contact, CUSTOM_PROPERTY_TYPE_ID) == [(first, [7001])]
    moved = {**lead, "id": contact, "associations:properties": second}
    connector.upsert("leads", [moved], "email")
    assert _edges(target, "contacts", contact, CUSTOM_PROPERTY_TYPE_ID) == [(second, [7001])]
    (read,) = connector.read("leads", [contact])  # type: ignore[attr-defined]
    assert read.properties["associations:properties"] == second
    # without the custom object named, contacts read no association with it
    (plain,) = target.connector().read("contacts", [contact])  # type: ignore[attr-defined]
    assert "associations:properties" not in plain.properties


def test_properties_without_their_custom_object_are_a_config_error(
    target: HubSpotTarget,
) -> None:
    with pytest.raises(ConfigError, match=r"config\.custom_objects\.properties"):
        target.connector().upsert("properties", [{"name": "A"}], None)


def test_a_call_is_a_call_and_any_other_activity_a_completed_task(
    target: HubSpotTarget,
) -> None:
    connector = target.connector()
    (contact,) = _ids(connector.upsert("contacts", [{"email": "c@example.com"}], "email"))
    call, email = _ids(
        connector.upsert(
            "activities",
            [
                {
                    "type": "call",
                    "subject": "Rates",
                    "direction": "outbound",
                    "associations:contacts": contact,
                },
                {"type": "email", "subject": "Docs sent", "associations:contacts": contact},
            ],
            None,
        )
    )
    assert (call.split("/")[0], email.split("/")[0]) == ("calls", "tasks")
    assert _edges(target, "calls", call.split("/")[1], "contacts") == [(contact, [194])]
    assert _edges(target, "tasks", email.split("/")[1], "contacts") == [(contact, [204])]
    task = target.control.get(
        f"/crm/v3/objects/tasks/{email.split('/')[1]}",
        params={"properties": "hs_task_status,hs_task_type,hs_task_subject,hs_timestamp"},
        headers={"Authorization": f"Bearer {target.sandbox.tokens.private_token}"},
    ).json()["properties"]
    assert (task["hs_task_status"], task["hs_task_type"]) == ("COMPLETED", "EMAIL")
    assert task["hs_task_subject"] == "Docs sent" and task["hs_timestamp"]
    updated = connector.upsert(
        "activities", [{"id": call, "type": "call", "subject": "Rates 2"}], None
    )
    assert [(r.outcome, r.remote_id) for r in updated] == [(Outcome.UPDATED, call)]
    page = connector.changes("activities", None)
    read = {r.remote_id: r.properties for r in page.records}
    assert (read[call]["type"], read[call]["subject"], read[call]["direction"]) == (
        "call",
        "Rates 2",
        "outbound",
    )
    assert read[call]["associations:contacts"] == contact
    assert (read[email]["type"], read[email]["subject"]) == ("email", "Docs sent")
    connector.delete("activities", [call, "not-an-activity-id"])
    later = connector.changes("activities", page.next_cursor)
    assert [d.remote_id for d in later.deletions] == [call]
