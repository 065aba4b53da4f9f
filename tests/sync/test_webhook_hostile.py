"""Webhook intake under hostile deliveries: refused by status, never an error (issue 17)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crmsync.connectors.http.secret import Secret
from crmsync.connectors.hubspot.connector import HubSpotConnector
from crmsync.connectors.hubspot.webhooks import sign_v3
from crmsync.store.models import Integration
from crmsync.sync.webhooks import (
    MAX_CACHED,
    UnknownIntegration,
    WebhookMalformed,
    WebhookReceiver,
    WebhookRejected,
)

SECRET = "hook-secret"
URL = "https://crmsync.example.com/hook"


def _connector(_integration: Integration) -> HubSpotConnector:
    # verification and parsing never touch the client
    return HubSpotConnector(None, webhook_secret=Secret(SECRET), webhook_url=URL)  # type: ignore[arg-type]


def _signed(body: bytes, stamp: str | None = None) -> dict[str, str]:
    stamp = stamp or str(int(time.time() * 1000))
    return {
        "X-HubSpot-Signature-v3": sign_v3(SECRET, "POST", URL, body, stamp),
        "X-HubSpot-Request-Timestamp": stamp,
    }


@pytest.fixture
def setup(db: Session, tenant: Any) -> Iterator[tuple[WebhookReceiver, Integration]]:
    sessions = sessionmaker(db.get_bind(), expire_on_commit=False)
    with sessions() as session:
        integration = Integration(
            workspace_id=tenant.id, provider="hubspot", name="hostile", config={}
        )
        session.add(integration)
        session.commit()
    receiver = WebhookReceiver(sessions, _connector, ttl=3600)
    yield receiver, integration
    receiver.close()


GOOD = b'[{"eventId": 5, "subscriptionType": "contact.creation", "objectId": 9}]'


def test_a_genuine_delivery_is_stored(setup: tuple[WebhookReceiver, Integration]) -> None:
    receiver, integration = setup
    stored = receiver.accept("hubspot", integration.id, _signed(GOOD), GOOD).result(10)
    assert stored.stored == 1


@pytest.mark.parametrize("stamp", ["9" * 400, "1" * 17])
def test_an_absurd_timestamp_is_refused(
    setup: tuple[WebhookReceiver, Integration], stamp: str
) -> None:
    receiver, integration = setup
    with pytest.raises(WebhookRejected):
        receiver.accept("hubspot", integration.id, _signed(GOOD, stamp), GOOD)


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"\xff\xfe",
        b"[" * 5000 + b"]" * 5000,
        b"[" * 40 + b"]" * 40,
        b'[{"eventId": 5, "objectId": 18446744073709551616}]',
        b'[{"eventId": 5, "objectId": NaN}]',
    ],
)
def test_a_signed_but_malformed_body_is_refused(
    setup: tuple[WebhookReceiver, Integration], body: bytes
) -> None:
    receiver, integration = setup
    with pytest.raises(WebhookMalformed):
        receiver.accept("hubspot", integration.id, _signed(body), body)


def test_a_delivery_for_a_removed_integration_is_unknown(
    setup: tuple[WebhookReceiver, Integration], db: Session
) -> None:
    receiver, integration = setup
    receiver.accept("hubspot", integration.id, _signed(GOOD), GOOD).result(10)  # now cached
    gone = db.get(Integration, integration.id)
    db.delete(gone)
    db.commit()
    body = GOOD.replace(b"5", b"6")
    future = receiver.accept("hubspot", integration.id, _signed(body), body)
    assert isinstance(future.exception(10), UnknownIntegration)


def test_unknown_ids_do_not_grow_the_cache(setup: tuple[WebhookReceiver, Integration]) -> None:
    receiver, _ = setup
    for _ in range(MAX_CACHED + 50):
        with pytest.raises(UnknownIntegration):
            receiver.accept("hubspot", uuid.uuid4(), {}, b"{}")
    assert receiver.cached == MAX_CACHED
