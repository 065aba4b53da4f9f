"""HubSpot sandbox fidelity: one test per documented behaviour of
docs/sandboxes-fidelity.md (rows HS-n), driven with the official `hubspot-api-client`."""

from __future__ import annotations

from typing import Any

import httpx
import hubspot
import orjson
import pytest
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    PublicAssociationMultiArchive,
    PublicAssociationMultiPost,
    PublicObjectId,
)
from hubspot.crm.associations.v4.exceptions import ApiException as AssociationsError
from hubspot.crm.associations.v4.schema import PublicAssociationDefinitionCreateRequest
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    SimplePublicObjectBatchInput,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException as ContactsError
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealCreate
from hubspot.crm.deals.exceptions import ApiException as DealsError
from hubspot.crm.pipelines import PipelineInput, PipelineStageInput
from hubspot.crm.properties import OptionInput, PropertyCreate, PropertyGroupCreate
from hubspot.crm.properties.exceptions import ApiException as PropertiesError
from hubspot.crm.tickets import SimplePublicObjectInputForCreate as TicketCreate
from hubspot.crm.tickets.exceptions import ApiException as TicketsError

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.hubspot import HubSpotSandbox

Portal = tuple[HubSpotSandbox, hubspot.Client, str]


@pytest.fixture
def portal(serve: Any) -> Portal:
    sandbox = HubSpotSandbox(SandboxOptions(rate_profile="off"), batch_delay=0.01)
    url = serve(sandbox).url("hubspot")
    client = hubspot.Client.create(access_token=sandbox.tokens.private_token, host=url)
    return sandbox, client, url


def _problem(exc: Any) -> tuple[str, str]:
    """(category, first per-property error code) of a refused write."""
    body = orjson.loads(exc.body)
    message = body["message"]
    codes = orjson.loads(message[message.index("[") :]) if "[" in message else [{}]
    return body["category"], codes[0].get("error", "")


def _contact(client: hubspot.Client, **properties: str) -> str:
    made = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties=properties)
    )
    return str(made.id)


# HS-1
def test_date_properties_take_midnight_utc_only(portal: Portal) -> None:
    _, client, _ = portal
    client.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="renewal_date",
            label="Renewal date",
            type="date",
            field_type="date",
            group_name="contactinformation",
        ),
    )
    with pytest.raises(ContactsError) as refused:
        _contact(client, email="a@x.io", renewal_date="1772366400000")  # 2026-03-01T12:00Z
    assert _problem(refused.value) == ("VALIDATION_ERROR", "INVALID_DATE")
    made = _contact(client, email="b@x.io", renewal_date="1772323200000")  # midnight
    read = client.crm.contacts.basic_api.get_by_id(made, properties=["renewal_date"])
    assert read.properties["renewal_date"] == "2026-03-01"


# HS-2
def test_deal_stages_must_belong_to_the_deal_pipeline(portal: Portal) -> None:
    _, client, _ = portal
    deals = client.crm.deals.basic_api
    with pytest.raises(DealsError) as refused:
        deals.create(DealCreate(properties={"dealname": "D", "dealstage": "nonsense"}))
    assert _problem(refused.value) == ("VALIDATION_ERROR", "INVALID_OPTION")
    with pytest.raises(DealsError):
        deals.create(DealCreate(properties={"dealname": "D", "pipeline": "nope"}))
    made = deals.create(DealCreate(properties={"dealname": "D", "dealstage": "closedwon"}))
    assert made.properties["dealstage"] == "closedwon"


# HS-3
def test_ticket_stages_must_belong_to_the_ticket_pipeline(portal: Portal) -> None:
    _, client, _ = portal
    tickets = client.crm.tickets.basic_api
    made = tickets.create(
        TicketCreate(properties={"subject": "S", "hs_pipeline": "0", "hs_pipeline_stage": "1"})
    )
    assert made.properties["hs_pipeline_stage"] == "1"
    with pytest.raises(TicketsError) as refused:
        tickets.create(TicketCreate(properties={"subject": "S", "hs_pipeline_stage": "closedwon"}))
    assert _problem(refused.value) == ("VALIDATION_ERROR", "INVALID_OPTION")
    with pytest.raises(TicketsError) as stageless:
        tickets.create(TicketCreate(properties={"subject": "S"}))
    assert _problem(stageless.value) == ("VALIDATION_ERROR", "REQUIRED_FIELD")


# HS-4
def test_pipelines_api_lists_and_creates_pipelines(portal: Portal) -> None:
    _, client, _ = portal
    api = client.crm.pipelines.pipelines_api
    default = api.get_all("deals").results
    assert [p.id for p in default] == ["default"]
    assert [s.id for s in default[0].stages][-2:] == ["closedwon", "closedlost"]
    assert default[0].stages[-2].metadata == {"isClosed": "true", "probability": "1.0"}
    made = api.create(
        "deals",
        PipelineInput(
            label="Mortgage",
            display_order=1,
            stages=[
                PipelineStageInput(
                    label="Applied", display_order=0, metadata={"probability": "0.1"}
                ),
                PipelineStageInput(
                    label="Funded", display_order=1, metadata={"probability": "1.0"}
                ),
            ],
        ),
    )
    applied = made.stages[0].id
    deals = client.crm.deals.basic_api
    props = {"dealname": "M", "pipeline": made.id, "dealstage": applied}
    assert deals.create(DealCreate(properties=props)).properties["dealstage"] == applied
    with pytest.raises(DealsError):  # that stage is not in the default pipeline
        deals.create(DealCreate(properties={"dealname": "M", "dealstage": applied}))


# HS-5
def test_owner_properties_refuse_unknown_owners(portal: Portal) -> None:
    _, client, _ = portal
    owners = client.crm.owners.owners_api.get_page(email="agent@sandbox.example").results
    assert [(o.id, o.first_name, o.archived) for o in owners] == [("102", "Sandbox", False)]
    assert client.crm.owners.owners_api.get_by_id(102).email == "agent@sandbox.example"
    made = _contact(client, email="c@x.io", hubspot_owner_id="102")
    for unknown in ("999", "103"):  # 103 is an archived owner
        with pytest.raises(ContactsError) as refused:
            client.crm.contacts.basic_api.update(
                made, SimplePublicObjectInput(properties={"hubspot_owner_id": unknown})
            )
        assert _problem(refused.value) == ("VALIDATION_ERROR", "INVALID_OWNER_ID")


# HS-6
@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"type": "string", "field_type": "select"}, "fieldType select is not valid"),
        ({"type": "number", "field_type": "text"}, "fieldType text is not valid"),
        ({"group_name": "no_such_group"}, "does not exist"),
        ({"type": "enumeration", "field_type": "select", "options": []}, "need options"),
    ],
)
def test_property_definitions_are_validated(
    portal: Portal, changes: dict[str, Any], fragment: str
) -> None:
    _, client, _ = portal
    fields = {
        "name": "loan_kind",
        "label": "Loan kind",
        "type": "string",
        "field_type": "text",
        "group_name": "contactinformation",
        **changes,
    }
    with pytest.raises(PropertiesError) as refused:
        client.crm.properties.core_api.create("contacts", PropertyCreate(**fields))
    assert refused.value.status == 400 and fragment in orjson.loads(refused.value.body)["message"]


# HS-7
def test_option_labels_and_groups_are_kept_as_given(portal: Portal) -> None:
    _, client, _ = portal
    group = client.crm.properties.groups_api.create(
        "contacts", PropertyGroupCreate(name="mortgage", label="Mortgage details")
    )
    assert (group.name, group.label) == ("mortgage", "Mortgage details")
    made = client.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="loan_kind",
            label="Loan kind",
            type="enumeration",
            field_type="select",
            group_name="mortgage",
            options=[
                OptionInput(label="Fixed rate", value="fixed", display_order=0, hidden=False),
                OptionInput(label="Adjustable", value="arm", display_order=1, hidden=False),
            ],
        ),
    )
    assert [(o.label, o.value) for o in made.options] == [
        ("Fixed rate", "fixed"),
        ("Adjustable", "arm"),
    ]
    names = [g.name for g in client.crm.properties.groups_api.get_all("contacts").results]
    assert "mortgage" in names


# HS-8
def test_association_batch_archive_takes_the_documented_body(portal: Portal) -> None:
    _, client, _ = portal
    contact = _contact(client, email="d@x.io")
    company = client.crm.companies.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"name": "Acme"})
    ).id
    client.crm.associations.v4.basic_api.create_default("contacts", contact, "companies", company)
    client.crm.associations.v4.batch_api.archive(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiArchive(
            inputs=[
                PublicAssociationMultiArchive(
                    _from=PublicObjectId(id=contact), to=[PublicObjectId(id=company)]
                )
            ]
        ),
    )
    left = client.crm.associations.v4.basic_api.get_page("contacts", contact, "companies")
    assert left.results == []


# HS-9
def test_association_labels_are_defined_before_use(portal: Portal) -> None:
    _, client, _ = portal
    contact = _contact(client, email="e@x.io")
    other = _contact(client, email="f@x.io")
    basic = client.crm.associations.v4.basic_api
    with pytest.raises(AssociationsError) as refused:
        basic.create(
            "contacts", contact, "contacts", other,
            [AssociationSpec(association_category="USER_DEFINED", association_type_id=555)],
        )  # fmt: skip
    assert refused.value.status == 400
    labels = client.crm.associations.v4.schema.definitions_api
    made = labels.create(
        "contacts",
        "contacts",
        PublicAssociationDefinitionCreateRequest(label="Co-borrower", name="co_borrower"),
    ).results[0]
    basic.create(
        "contacts", contact, "contacts", other,
        [AssociationSpec(association_category="USER_DEFINED", association_type_id=made.type_id)],
    )  # fmt: skip
    listed = basic.get_page("contacts", contact, "contacts").results
    assert [t.label for t in listed[0].association_types] == ["Co-borrower"]
    known = labels.get_all("contacts", "companies").results
    assert {(t.category, t.type_id) for t in known} == {
        ("HUBSPOT_DEFINED", 279),
        ("HUBSPOT_DEFINED", 1),
    }


# HS-10
def test_association_batch_create_reports_missing_records(portal: Portal) -> None:
    _, client, _ = portal
    contact = _contact(client, email="g@x.io")
    company = client.crm.companies.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"name": "Beta"})
    ).id
    spec = AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=279)
    answer = client.crm.associations.v4.batch_api.create(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id=contact), to=PublicObjectId(id=company), types=[spec]
                ),
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id="999999"), to=PublicObjectId(id=company), types=[spec]
                ),
            ]
        ),
    )
    assert len(answer.results) == 1 and answer.num_errors == 1


# HS-11
def test_unserved_endpoints_answer_hubspot_not_found(portal: Portal) -> None:
    sandbox, _, url = portal
    headers = {"Authorization": f"Bearer {sandbox.tokens.private_token}"}
    answer = httpx.get(url + "/marketing/v3/emails", headers=headers)
    assert answer.status_code == 404
    assert answer.json()["status"] == "error" and "category" in answer.json()


# HS-12
def test_single_checkboxes_take_true_or_false(portal: Portal) -> None:
    _, client, _ = portal
    client.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="vip",
            label="VIP",
            type="bool",
            field_type="booleancheckbox",
            group_name="contactinformation",
            options=[
                OptionInput(label="Yes", value="true", display_order=0, hidden=False),
                OptionInput(label="No", value="false", display_order=1, hidden=False),
            ],
        ),
    )
    with pytest.raises(ContactsError) as refused:
        _contact(client, email="h@x.io", vip="maybe")
    assert _problem(refused.value) == ("VALIDATION_ERROR", "INVALID_OPTION")
    assert _contact(client, email="i@x.io", vip="true")


# HS-13
def test_a_batch_update_may_not_name_one_record_twice(portal: Portal) -> None:
    _, client, _ = portal
    made = _contact(client, email="j@x.io")
    inputs = [
        SimplePublicObjectBatchInput(id=made, properties={"firstname": name}) for name in ("A", "B")
    ]
    with pytest.raises(ContactsError) as refused:
        client.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=inputs))
    assert "Duplicate IDs" in orjson.loads(refused.value.body)["message"]


# HS-14
def test_deals_carry_a_currency_code_of_the_account(portal: Portal) -> None:
    _, client, _ = portal
    deals = client.crm.deals.basic_api
    made = deals.create(DealCreate(properties={"dealname": "D", "deal_currency_code": "EUR"}))
    assert made.properties["deal_currency_code"] == "EUR"
    with pytest.raises(DealsError) as refused:
        deals.create(DealCreate(properties={"dealname": "D", "deal_currency_code": "XXX"}))
    assert _problem(refused.value) == ("VALIDATION_ERROR", "INVALID_OPTION")
