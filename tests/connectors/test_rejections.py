"""A refused record's reason and field, from each CRM's own error text."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from crmsync.connectors.errors import InvalidRecord, classify
from crmsync.connectors.http.rejections import field_of, rejection
from tests.connectors.contract.targets import TARGETS, Target

# what each sandbox's refusal of the contract suite's invalid payload names
EXPECTED = {
    "generic": "email",
    "hubspot": "no_such_property",
    "pipedrive": "name",
    "salesforce": "LastName",
    "totalexpert": "owner",
}


@pytest.fixture(scope="module", params=sorted(TARGETS))
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    served = TARGETS[request.param]()
    yield served
    served.stop()


def test_each_crm_refusal_names_its_field(target: Target) -> None:
    target.reset()
    connector = target.connector()
    try:
        results = connector.upsert(
            target.object_type, [target.payload(1), target.invalid_payload(2)], target.match_key
        )
    finally:
        connector.close()
    assert results[0].ok and not results[1].ok
    error = results[1].error
    assert isinstance(error, InvalidRecord)
    assert field_of(error) == EXPECTED[target.provider]
    shown = rejection(error)
    assert shown["reason"] == error.message and shown["field"] == EXPECTED[target.provider]


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (
            'Property values were not valid: [{"name":"lifecyclestage","error":"INVALID_OPTION"}]',
            "lifecyclestage",
        ),
        ('Property "crmsync_source" does not exist', "crmsync_source"),
        ("Required fields are missing: [LastName] (fields: LastName)", "LastName"),
        ("bad value (fields: Email, Phone)", "Email"),
        ("Missing required attribute(s): first_name", "first_name"),
        ("Unable to find target for relationship: 'contact'", "contact"),
        ("Name must be given.", "name"),
        ("Invalid email", "email"),
        ("email: not an e-mail address", "email"),
        ("The service is temporarily unavailable", None),
        ("HTTP 400 Bad Request", None),
    ],
)
def test_field_of_each_crms_message_shape(message: str, field: str | None) -> None:
    assert field_of(InvalidRecord(message)) == field


def test_a_field_from_the_error_body_wins() -> None:
    assert field_of(InvalidRecord("Invalid email", field="emails")) == "emails"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "category": "VALIDATION_ERROR",
                "message": "x",
                "errors": [{"message": "m", "in": "email"}],
            },
            "email",
        ),
        ([{"message": "bad", "errorCode": "INVALID_FIELD", "fields": ["Phone"]}], "Phone"),
        ({"message": "x", "context": {"propertyName": ["dealstage"]}}, "dealstage"),
        ({"success": False, "error": "Invalid email"}, None),
    ],
)
def test_whole_call_errors_carry_the_field_their_body_names(
    body: object, field: str | None
) -> None:
    response = httpx.Response(400, json=body, request=httpx.Request("POST", "https://crm.test/x"))
    error = classify(response)
    assert isinstance(error, InvalidRecord) and error.field == field
