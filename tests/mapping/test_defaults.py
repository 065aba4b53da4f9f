"""The shipped default mappings of every provider."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from crmsync.mapping.defaults import PROVIDERS, default_mapping
from crmsync.mapping.engine import map_inbound, map_outbound, status_fields
from crmsync.mapping.errors import MappingError
from crmsync.mapping.schema import DEAL_STAGES, LEAD_STATUSES, ObjectType

CONTACT = {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee",
           "phone": "+14155552671", "city": "Austin"}  # fmt: skip


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("hubspot", {"email": "ann@example.com", "firstname": "Ann", "lastname": "Lee",
                     "phone": "+14155552671", "city": "Austin"}),
        ("salesforce", {"Email": "ann@example.com", "FirstName": "Ann", "LastName": "Lee",
                        "Phone": "+14155552671", "MailingCity": "Austin"}),
        ("pipedrive", {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee",
                       "phone": "+14155552671"}),
        ("totalexpert", {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee",
                         "phone_cell": "+14155552671", "city": "Austin"}),
        ("generic", CONTACT),
    ],
)  # fmt: skip
def test_contact_property_names_per_provider(provider: str, expected: dict[str, Any]) -> None:
    result = map_outbound(default_mapping(provider), "contacts", CONTACT)
    assert result.ok
    assert result.values == expected


@pytest.mark.parametrize("provider", ["hubspot", "salesforce", "pipedrive", "totalexpert"])
def test_every_lead_status_and_deal_stage_maps_out_and_back(provider: str) -> None:
    mapping = default_mapping(provider)
    for object_type, values in ((ObjectType.LEADS, LEAD_STATUSES), (ObjectType.DEALS, DEAL_STAGES)):
        (field, _name), *_ = status_fields(mapping, object_type).items()
        for value in values:
            out = map_outbound(
                mapping,
                object_type,
                {
                    field: value,
                    "name": "n",
                    "last_name": "l",
                    "contact_id": "1",
                    "close_date": "2024-01-02",
                },
            )
            assert out.ok, (provider, value, out.errors)
            back = map_inbound(mapping, object_type, out.values)
            assert back.ok, (provider, value, back.errors)
            assert back.values[field] in values


def test_unmapped_remote_status_names_value_and_map() -> None:
    result = map_inbound(default_mapping("salesforce"), "leads", {"Status": "Nurturing"})
    assert [(e.field, e.message) for e in result.errors] == [
        ("Status", "value 'Nurturing' has no inbound entry in map 'lead_status'")
    ]


def test_salesforce_lead_gets_required_company_placeholder() -> None:
    out = map_outbound(default_mapping("salesforce"), "leads", {"last_name": "Lee"})
    assert out.values == {"LastName": "Lee", "Company": "[not provided]"}


def test_pipedrive_won_deal_sets_status_and_nested_lead_value() -> None:
    mapping = default_mapping("pipedrive")
    deal = map_outbound(mapping, "deals", {"name": "D", "stage": "CLOSED_WON", "amount": 5})
    assert deal.values == {"title": "D", "stage_id": 5, "status": "won", "value": 5}
    lead = map_outbound(mapping, "leads", {"contact_id": "7", "budget_max": 9, "status": "NEW"})
    title = "Lead from crmsync"  # Pipedrive requires one; canonical leads have none
    assert lead.values == {
        "person_id": "7",
        "title": title,
        "value": {"amount": 9},
        "is_archived": False,
    }


def test_totalexpert_dates_use_its_wire_format() -> None:
    mapping = default_mapping("totalexpert")
    out = map_outbound(mapping, "deals", {"name": "L1", "close_date": date(2024, 5, 1)})
    assert out.values == {"loan_number": "L1", "close_date": "2024-05-01 00:00:00"}
    assert map_inbound(mapping, "deals", out.values).values["close_date"] == date(2024, 5, 1)


def test_default_mapping_is_a_copy() -> None:
    first = default_mapping("hubspot")
    first.objects[ObjectType.CONTACTS].fields.clear()
    assert default_mapping("hubspot").objects[ObjectType.CONTACTS].fields


def test_unknown_provider() -> None:
    with pytest.raises(MappingError, match="no default mapping for provider 'zoho'"):
        default_mapping("zoho")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_default_covers_contacts_leads_and_deals(provider: str) -> None:
    objects = set(default_mapping(provider).objects)
    assert {ObjectType.CONTACTS, ObjectType.LEADS, ObjectType.DEALS} <= objects


def test_hubspot_option_labels_go_out_as_its_option_values() -> None:
    # a HubSpot export writes labels; imported and pushed back, every contact with a
    # lead status was refused ("Unqualified was not one of the allowed options")
    contact = {
        **CONTACT,
        "status": "Attempted to contact",
        "lifecycle_stage": "Marketing qualified lead",
    }
    result = map_outbound(default_mapping("hubspot"), "contacts", contact)
    assert result.ok
    assert result.values["hs_lead_status"] == "ATTEMPTED_TO_CONTACT"
    assert result.values["lifecyclestage"] == "marketingqualifiedlead"
    # a value that names no option goes as it is; inbound values come in as they are
    custom = map_outbound(default_mapping("hubspot"), "contacts", {**CONTACT, "status": "Hot"})
    assert custom.values["hs_lead_status"] == "Hot"
    back = map_inbound(default_mapping("hubspot"), "contacts", {"hs_lead_status": "IN_PROGRESS"})
    assert back.values["status"] == "IN_PROGRESS"
