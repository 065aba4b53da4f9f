"""What the default mappings need on each CRM (pure), and the plan/report shapes."""

from __future__ import annotations

import pytest

from crmsync.integrations.setup.model import (
    ItemKind,
    ItemResult,
    ItemState,
    Outcome,
    SetupItem,
    SetupPlan,
    SetupReport,
)
from crmsync.integrations.setup.needs import field_needs
from crmsync.integrations.setup.salesforce import _remote_type as salesforce_type
from crmsync.mapping.defaults import default_mapping
from crmsync.mapping.schema import CONTACT_TYPES, FieldType


@pytest.mark.parametrize(
    ("provider", "objects", "name", "remote_object", "kind", "options"),
    [
        (
            "hubspot",
            ["contacts"],
            "crmsync_contact_type",
            "contacts",
            FieldType.ENUM,
            CONTACT_TYPES,
        ),
        ("hubspot", ["contacts"], "utm_source", "contacts", FieldType.STRING, ()),
        ("hubspot", ["leads"], "crmsync_budget_min", "contacts", FieldType.NUMBER, ()),
        ("salesforce", ["contacts"], "Contact_Type__c", "Contact", FieldType.ENUM, CONTACT_TYPES),
        ("salesforce", ["leads"], "Preferred_Areas__c", "Lead", FieldType.LIST, ()),
        ("pipedrive", ["deals"], "value", "deals", FieldType.NUMBER, ()),
    ],
)
def test_each_mapped_property_is_one_need(
    provider: str,
    objects: list[str],
    name: str,
    remote_object: str,
    kind: FieldType,
    options: tuple[str, ...],
) -> None:
    needs = {n.name: n for n in field_needs(default_mapping(provider), objects)}
    need = needs[name]
    assert (need.remote_object, need.type, need.options) == (remote_object, kind, options)


def test_a_property_two_objects_share_is_needed_once() -> None:
    # HubSpot leads are contacts: crmsync_source comes from both mappings
    needs = field_needs(default_mapping("hubspot"), ["contacts", "leads"])
    assert [n.name for n in needs].count("crmsync_source") == 1


def test_objects_without_a_mapping_need_nothing() -> None:
    assert field_needs(default_mapping("hubspot"), ["nonsense"]) == []


@pytest.mark.parametrize("provider", ["hubspot", "salesforce", "pipedrive", "totalexpert"])
def test_references_are_never_fields_to_create(provider: str) -> None:
    objects = ["contacts", "leads", "deals", "companies", "notes", "tickets", "activities"]
    names = {n.name for n in field_needs(default_mapping(provider), objects)}
    relation_targets = {"associations:contacts", "associations:companies", "AccountId",
                        "OpportunityContactRole:ContactId", "person_id", "org_id"}  # fmt: skip
    assert names & relation_targets == set()


def test_status_mapped_enums_take_the_crms_values() -> None:
    needs = {n.name: n for n in field_needs(default_mapping("salesforce"), ["leads"])}
    assert "Open - Not Contacted" in needs["Status"].options


@pytest.mark.parametrize(
    ("name", "expected_type", "attributes"),
    [
        ("Contact_Type__c", "Picklist", {"valueSet"}),
        ("Engagement_Score__c", "Number", {"precision", "scale"}),
        ("Preferred_Areas__c", "Text", {"length"}),
    ],
)
def test_salesforce_metadata_has_what_the_type_needs(
    name: str, expected_type: str, attributes: set[str]
) -> None:
    needs = {n.name: n for n in field_needs(default_mapping("salesforce"), ["contacts", "leads"])}
    kind, metadata = salesforce_type(needs[name])
    assert kind == expected_type and set(metadata) == attributes


def test_plan_and_report_count_their_items() -> None:
    present = SetupItem(ItemKind.FIELD, "a", ItemState.PRESENT, "contacts", "contacts")
    missing = present.as_state(ItemState.MISSING)
    plan = SetupPlan("hubspot", (present, missing), "http://x")
    assert plan.missing == [missing]
    assert plan.to_json()["counts"] == {"present": 1, "missing": 1, "manual": 0}
    failed = ItemResult(missing, Outcome.FAILED, "Property values were not valid")
    report = SetupReport("hubspot", (ItemResult(present, Outcome.EXISTS), failed))
    assert not report.ok
    assert report.to_json()["items"][1] == {
        **missing.to_json(),
        "outcome": "failed",
        "reason": "Property values were not valid",
    }
