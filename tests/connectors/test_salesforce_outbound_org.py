"""An Outbound Message is verified by its organisation id, and nothing else."""

from __future__ import annotations

import pytest

from crmsync.connectors.errors import InvalidRecord
from crmsync.connectors.salesforce import webhooks
from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.sandbox.salesforce.outbound import notification_body

ORG = "00D000000000001AAA"


def message(org_id: str) -> bytes:
    record = {"Id": "003000000000001AAA", "LastName": "Doe"}
    return notification_body(
        org_id, "04k000000000001AAA", "https://x", "59.0", "Contact", [("04l1", record)]
    )


def connector(org_id: str | None) -> SalesforceConnector:
    return SalesforceConnector(client=None, org_id=org_id)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("known", "sent", "verified"),
    [
        (ORG, ORG, True),
        (ORG[:15], ORG, True),  # the 15-character form of the same id
        (ORG, "00D000000000002AAA", False),
        (None, ORG, False),  # setup has not stored the org id yet
        ("00D", "00D", False),  # not an id
    ],
)
def test_only_the_integrations_org_is_verified(
    known: str | None, sent: str, verified: bool
) -> None:
    assert connector(known).verify_webhook({}, message(sent)) is verified


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b"<x>" + b" " * (webhooks.MAX_BYTES + 1) + b"</x>",
    ],
    ids=["not-xml", "dtd", "too-large"],
)
def test_hostile_bodies_are_refused(body: bytes) -> None:
    assert not connector(ORG).verify_webhook({}, body)
    with pytest.raises(InvalidRecord):
        webhooks.parse(body)
