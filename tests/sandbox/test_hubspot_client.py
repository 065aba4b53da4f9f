"""Fidelity: the official `hubspot-api-client`, pointed at the sandbox by its
configuration host, does what it would do against HubSpot."""

from __future__ import annotations

from typing import Any

import hubspot
import orjson
import pytest
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException
from hubspot.crm.properties import PropertyCreate
from hubspot.utils.signature import Signature
from hubspot.webhooks import SettingsChangeRequest, SubscriptionCreateRequest, ThrottlingSettings
from hubspot.webhooks.exceptions import ApiException as WebhooksApiException

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.hubspot import HubSpotSandbox
from crmsync.sandbox.webhooks import WebhookTarget

from .conftest import Receiver


@pytest.fixture
def portal(serve: Any) -> tuple[HubSpotSandbox, hubspot.Client]:
    sandbox = HubSpotSandbox(SandboxOptions(rate_profile="off"), batch_delay=0.01)
    server = serve(sandbox)
    client = hubspot.Client.create(
        access_token=sandbox.tokens.private_token, host=server.url("hubspot")
    )
    return sandbox, client


def _upsert(emails: list[str], firstname: str) -> BatchInputSimplePublicObjectBatchInputUpsert:
    return BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            SimplePublicObjectBatchInputUpsert(
                id=email, id_property="email", properties={"firstname": firstname}
            )
            for email in emails
        ]
    )


def test_create_then_read_back(portal: tuple[HubSpotSandbox, hubspot.Client]) -> None:
    _, client = portal
    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "ada@example.com", "firstname": "Ada"}
        )
    )
    assert created.id and created.properties["email"] == "ada@example.com"
    fetched = client.crm.contacts.basic_api.get_by_id(created.id, properties=["firstname", "email"])
    assert fetched.properties["firstname"] == "Ada"
    assert fetched.created_at == created.created_at
    assert fetched.archived is False


def test_batch_upsert_creates_then_updates_by_email(
    portal: tuple[HubSpotSandbox, hubspot.Client],
) -> None:
    sandbox, client = portal
    emails = [f"p{i}@example.com" for i in range(100)]
    first = client.crm.contacts.batch_api.upsert(_upsert(emails, "One"))
    assert len(first.results) == 100 and all(r.new for r in first.results)
    second = client.crm.contacts.batch_api.upsert(_upsert(emails[:10], "Two"))
    assert [r.new for r in second.results] == [False] * 10
    assert {r.properties["firstname"] for r in second.results} == {"Two"}
    assert sandbox.counts()["contacts"] == 100


def test_batch_of_more_than_100_is_a_validation_error(
    portal: tuple[HubSpotSandbox, hubspot.Client],
) -> None:
    _, client = portal
    with pytest.raises(ApiException) as caught:
        client.crm.contacts.batch_api.upsert(_upsert([f"x{i}@e.com" for i in range(101)], "X"))
    assert caught.value.status == 400
    assert orjson.loads(caught.value.body)["category"] == "VALIDATION_ERROR"


def test_search_pages_through_every_match(portal: tuple[HubSpotSandbox, hubspot.Client]) -> None:
    _, client = portal
    client.crm.contacts.batch_api.upsert(_upsert([f"s{i}@example.com" for i in range(25)], "S"))
    client.crm.contacts.batch_api.upsert(_upsert(["other@example.com"], "Other"))
    seen: list[str] = []
    after: str | None = None
    while True:
        request = PublicObjectSearchRequest(
            filter_groups=[
                {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "s"}]}
            ],
            sorts=[{"propertyName": "email", "direction": "ASCENDING"}],
            properties=["email"],
            limit=10,
            after=after,
        )
        page = client.crm.contacts.search_api.do_search(public_object_search_request=request)
        assert page.total == 25
        seen += [r.properties["email"] for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == sorted(f"s{i}@example.com" for i in range(25))


def test_search_by_last_modified_date(portal: tuple[HubSpotSandbox, hubspot.Client]) -> None:
    sandbox, client = portal
    client.crm.contacts.batch_api.upsert(_upsert(["old@example.com"], "Old"))
    cutoff = sandbox.crm.now_ms() + 1
    sandbox.crm.clock = lambda: (cutoff + 5) / 1000
    client.crm.contacts.batch_api.upsert(_upsert(["new@example.com"], "New"))
    request = PublicObjectSearchRequest(
        filter_groups=[
            {
                "filters": [
                    {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(cutoff)}
                ]
            }
        ],
        properties=["email"],
    )
    page = client.crm.contacts.search_api.do_search(public_object_search_request=request)
    assert [r.properties["email"] for r in page.results] == ["new@example.com"]


def test_custom_property_is_created_and_writable(
    portal: tuple[HubSpotSandbox, hubspot.Client],
) -> None:
    _, client = portal
    created = client.crm.properties.core_api.create(
        object_type="contacts",
        property_create=PropertyCreate(
            name="crmsync_ref",
            label="crmsync reference",
            type="string",
            field_type="text",
            group_name="contactinformation",
            has_unique_value=True,
        ),
    )
    assert created.name == "crmsync_ref" and created.has_unique_value is True
    names = {p.name for p in client.crm.properties.core_api.get_all(object_type="contacts").results}
    assert {"crmsync_ref", "email", "firstname"} <= names
    made = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"crmsync_ref": "R-1"})
    )
    again = client.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                SimplePublicObjectBatchInputUpsert(
                    id="R-1", id_property="crmsync_ref", properties={"lastname": "Lovelace"}
                )
            ]
        )
    )
    assert again.results[0].id == made.id and again.results[0].new is False


def test_unknown_property_gets_hubspots_validation_error(
    portal: tuple[HubSpotSandbox, hubspot.Client],
) -> None:
    _, client = portal
    with pytest.raises(ApiException) as caught:
        client.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"shoe_size": "44"})
        )
    body = orjson.loads(caught.value.body)
    assert caught.value.status == 400
    assert body["category"] == "VALIDATION_ERROR" and "PROPERTY_DOESNT_EXIST" in body["message"]
    assert body["correlationId"]


def test_webhook_delivery_validates_with_the_sdk_signature(
    portal: tuple[HubSpotSandbox, hubspot.Client], receiver: Receiver
) -> None:
    sandbox, client = portal
    secret = sandbox.tokens.client_secret
    sandbox.register_webhook(WebhookTarget(url=receiver.url, events=("contact.creation",)))
    client.crm.contacts.batch_api.upsert(_upsert(["a@example.com", "b@example.com"], "W"))
    headers, body = receiver.wait(1)[0]
    events = orjson.loads(body)
    assert [e["subscriptionType"] for e in events] == ["contact.creation"] * 2
    assert Signature.is_valid(
        signature=headers["x-hubspot-signature-v3"],
        client_secret=secret,
        request_body=body.decode(),
        http_uri=receiver.url,
        http_method="POST",
        signature_version="v3",
        timestamp=headers["x-hubspot-request-timestamp"],
    )
    assert Signature.is_valid(
        signature=headers["x-hubspot-signature"],
        client_secret=secret,
        request_body=body.decode(),
        signature_version="v1",
    )
    assert not Signature.is_valid(
        signature=headers["x-hubspot-signature"],
        client_secret="wrong",
        request_body=body.decode(),
        signature_version="v1",
    )


def test_app_webhook_settings_and_subscriptions_through_the_sdk(
    portal: tuple[HubSpotSandbox, hubspot.Client], receiver: Receiver
) -> None:
    sandbox, client = portal
    developer = hubspot.Client.create(
        api_key=sandbox.tokens.developer_api_key, host=client.config["host"]
    )
    app_id = sandbox.tokens.app_id
    developer.webhooks.settings_api.configure(
        app_id,
        SettingsChangeRequest(
            target_url=receiver.url, throttling=ThrottlingSettings(max_concurrent_requests=5)
        ),
    )
    sub = developer.webhooks.subscriptions_api.create(
        app_id,
        SubscriptionCreateRequest(
            event_type="contact.propertyChange", property_name="firstname", active=True
        ),
    )
    listed = developer.webhooks.subscriptions_api.get_all(app_id).results
    assert [(s.id, s.event_type, s.property_name) for s in listed] == [
        (sub.id, "contact.propertyChange", "firstname")
    ]
    made = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "sub@example.com"})
    )
    client.crm.contacts.basic_api.update(
        made.id, SimplePublicObjectInput(properties={"lastname": "Nope", "firstname": "Yes"})
    )
    _, body = receiver.wait(1)[0]
    (event,) = orjson.loads(body)
    assert (event["propertyName"], event["propertyValue"]) == ("firstname", "Yes")
    assert event["subscriptionId"] == int(sub.id) and event["appId"] == app_id
    with pytest.raises(WebhooksApiException) as refused:
        hubspot.Client.create(
            api_key="wrong", host=client.config["host"]
        ).webhooks.settings_api.get_all(app_id)
    assert refused.value.status == 401
