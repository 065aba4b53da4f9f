"""Salesforce campaigns as journeys, over HTTP against the Salesforce sandbox: the
catalogue, enrolment as a CampaignMember (once, however often asked) and unenrolment."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from crmsync.connectors.journeys import EnrollmentConnector, EnrollTarget
from crmsync.connectors.registry import ConnectorContext, build
from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.salesforce import Sandbox
from crmsync.sandbox.server import SandboxServer


@pytest.fixture
def org() -> Iterator[tuple[Sandbox, Any]]:
    sandbox = Sandbox(SandboxOptions(rate_profile="off"))
    server = SandboxServer([sandbox]).start()
    url = server.url("salesforce")
    context = ConnectorContext(
        integration_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        base_url=url,
        credentials={"access_token": sandbox.org.tokens.default_token, "instance_url": url},
    )
    connector = build("salesforce", context)
    yield sandbox, connector
    connector.close()
    server.stop()


def _members(connector: Any) -> list[dict[str, Any]]:
    return list(
        connector.client.query("SELECT Id, CampaignId, ContactId FROM CampaignMember")["records"]
    )


def test_campaigns_enrol_once_and_unenrol(org: tuple[Sandbox, Any]) -> None:
    sandbox, connector = org
    assert isinstance(connector, EnrollmentConnector)
    spring = sandbox.user_change(
        "Campaign", None, {"Name": "Spring rates", "IsActive": True, "Type": "Email"}
    )
    sandbox.user_change("Campaign", None, {"Name": "Done", "IsActive": True, "Status": "Completed"})
    contact = sandbox.user_change("Contact", None, {"LastName": "Rower"})
    journeys = {j.name: j for j in connector.journeys()}
    assert journeys["Spring rates"].active and journeys["Spring rates"].trigger == "Email"
    assert not journeys["Done"].active  # a completed campaign takes no one
    who = EnrollTarget(contact["Id"])
    first = connector.enroll(spring["Id"], who)
    assert connector.enroll(spring["Id"], who) == first
    assert [(m["CampaignId"], m["ContactId"]) for m in _members(connector)] == [
        (spring["Id"], contact["Id"])
    ]
    connector.unenroll(spring["Id"], who)
    connector.unenroll(spring["Id"], who)  # not a member: nothing to do
    assert _members(connector) == []
