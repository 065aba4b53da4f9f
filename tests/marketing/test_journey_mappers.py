"""Pure mappers of the marketing extras, by tables of provider JSON and what it becomes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crmsync.connectors.hubspot.workflows import to_journey as hubspot_journey
from crmsync.connectors.salesforce.campaigns import to_journey as campaign_journey
from crmsync.connectors.totalexpert.mappers import to_interaction
from crmsync.connectors.totalexpert.mappers import to_journey as te_journey


def test_hubspot_workflow_actions_become_steps_with_delays() -> None:
    journey = hubspot_journey(
        {
            "id": 7, "name": "Welcome", "type": "DRIP_DELAY", "enabled": True,
            "actions": [
                {"type": "DELAY", "delayMillis": 3_600_000},
                {"type": "EMAIL", "emailContentId": 1, "emailName": "Hi"},
                {"type": "EMAIL", "emailContentId": 2, "emailName": "Again"},
                {"type": "DELAY", "delayMillis": 86_400_000},
                {"type": "SET_CONTACT_PROPERTY"},
            ],
        }
    )  # fmt: skip
    assert (journey.remote_id, journey.active, journey.trigger) == ("7", True, "DRIP_DELAY")
    assert list(journey.steps) == [
        {"name": "Hi", "template": 1, "delay_minutes": 60},
        {"name": "Again", "template": 2, "delay_minutes": 0},
        {"name": "SET_CONTACT_PROPERTY", "template": None, "delay_minutes": 1440},
    ]


@pytest.mark.parametrize(
    ("row", "active"),
    [
        ({"Id": "701A", "Name": "x", "IsActive": True, "Status": "In Progress"}, True),
        ({"Id": "701A", "Name": "x", "IsActive": True, "Status": "Completed"}, False),
        ({"Id": "701A", "Name": "x", "IsActive": False, "Status": "Planned"}, False),
    ],
)
def test_salesforce_campaigns(row: dict[str, Any], active: bool) -> None:
    assert campaign_journey(row).active is active


@pytest.mark.parametrize(
    ("raw", "steps", "active"),
    [
        ({"id": 1, "name": "a", "active": "True", "steps": 2}, ["Step 1", "Step 2"], True),
        ({"id": 1, "name": "a", "active": "False", "steps": [{"name": "Call"}]}, ["Call"], False),
        ({"id": 1, "name": "a"}, [], True),
    ],
)
def test_total_expert_journeys(raw: dict[str, Any], steps: list[str], active: bool) -> None:
    journey = te_journey(raw)
    assert [s["name"] for s in journey.steps] == steps and journey.active is active


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ({"id": 5, "type": "Email Opened", "created_at": "2026-01-02 03:04:05"}, "email"),
        ({"id": 5, "type": "email clicked", "created_at": "2026-01-02 03:04:05"}, "email"),
        ({"id": 5, "type": "SMS Replied", "created_at": "2026-01-02 03:04:05"}, "sms"),
        ({"id": 5, "type": "Note Added", "created_at": "2026-01-02 03:04:05"}, None),
        ({"id": 5, "type": "Journey Enrolled", "created_at": "2026-01-02 03:04:05"}, None),
        ({"id": 5, "type": "Email Opened"}, None),
    ],
)
def test_total_expert_engagement(raw: dict[str, Any], kind: str | None) -> None:
    found = to_interaction(raw)
    assert (found.type if found else None) == kind
    if found is not None:
        assert found.occurred_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert found.remote_id == "5" and found.direction == "inbound"
