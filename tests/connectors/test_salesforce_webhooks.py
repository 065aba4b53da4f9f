"""Outbound messages: parsed into changes, never taken as verified without the org id."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from crmsync.connectors.base import ChangeKind
from crmsync.connectors.errors import InvalidRecord
from crmsync.connectors.salesforce import webhooks
from crmsync.sandbox.salesforce import Sandbox
from crmsync.sandbox.salesforce.outbound import notification_body
from crmsync.sandbox.server import SandboxServer
from tests.connectors.test_salesforce_connector import Org
from tests.sandbox.conftest import Receiver, receiver  # noqa: F401  (the receiver fixture)

CREATED = "2026-01-05T09:00:00.000+0000"
LATER = "2026-01-05T09:05:00.000+0000"


def record(**fields: Any) -> dict[str, Any]:
    return {
        "Id": "003000000000001AAA",
        "CreatedDate": CREATED,
        "LastModifiedDate": CREATED,
        "SystemModstamp": CREATED,
        "LastName": "Doe",
        **fields,
    }


def body(sobject: str, *records: dict[str, Any]) -> bytes:
    pairs = [(f"04l00000000000{n}AAA", r) for n, r in enumerate(records)]
    return notification_body(
        "00D000000000001AAA", "04k000000000001AAA", "https://x", "59.0", sobject, pairs
    )


@pytest.mark.parametrize(
    ("sobject", "fields", "object_type", "kind"),
    [
        ("Contact", {}, "contacts", ChangeKind.CREATED),
        (
            "Contact",
            {"LastModifiedDate": LATER, "SystemModstamp": LATER},
            "contacts",
            ChangeKind.UPDATED,
        ),
        ("Lead", {}, "leads", ChangeKind.CREATED),
        ("Account", {"LastModifiedDate": LATER}, "companies", ChangeKind.UPDATED),
        ("Opportunity", {}, "deals", ChangeKind.CREATED),
        ("Task", {}, "activities", ChangeKind.CREATED),
    ],
)
def test_parse_notifications(
    sobject: str, fields: dict[str, Any], object_type: str, kind: ChangeKind
) -> None:
    changes = webhooks.parse(body(sobject, record(**fields)))
    assert [(c.object_type, c.remote_id, c.kind) for c in changes] == [
        (object_type, "003000000000001AAA", kind)
    ]
    assert changes[0].event_id == "04l000000000000AAA"
    assert changes[0].properties["LastName"] == "Doe" and "Id" not in changes[0].properties


def test_several_notifications_and_unsynced_objects() -> None:
    two = webhooks.parse(body("Contact", record(), record(Id="003000000000002AAA")))
    assert [c.remote_id for c in two] == ["003000000000001AAA", "003000000000002AAA"]
    assert webhooks.parse(body("Campaign", record())) == []


@pytest.mark.parametrize(
    "payload",
    [b"{}", b"<unclosed", b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'],
)
def test_foreign_or_dangerous_bodies_are_refused(payload: bytes) -> None:
    with pytest.raises(InvalidRecord):
        webhooks.parse(payload)


def test_sandbox_delivery_parses_but_is_never_verified(receiver: Receiver) -> None:  # noqa: F811
    sandbox = Sandbox()
    with SandboxServer([sandbox], tls=True) as server:
        org = Org(sandbox, server.url("salesforce"), str(server.cert_path))
        with httpx.Client(base_url=org.url, verify=org.tls()) as control:
            subscription = {"url": receiver.url, "events": ["Contact"]}
            control.post("/_sandbox/webhooks", json=subscription).raise_for_status()
        made = sandbox.user_change("Contact", None, {"LastName": "Pushed"})
        headers, delivered = receiver.wait(1)[0]
        connector = org.connector()
        assert not connector.verify_webhook(headers, delivered)
        changes = connector.parse_webhook(delivered)
    assert [(c.remote_id, c.kind) for c in changes] == [(made["Id"], ChangeKind.CREATED)]
    assert changes[0].properties["LastName"] == "Pushed"
