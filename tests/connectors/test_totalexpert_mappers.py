"""Total Expert mappers and webhook checks, by tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from crmsync.connectors.base import ChangeKind, TimelineEntry
from crmsync.connectors.http.secret import Secret
from crmsync.connectors.totalexpert import webhooks
from crmsync.connectors.totalexpert.mappers import (
    to_changes,
    to_contact_body,
    to_journey,
    to_note_body,
    to_remote_record,
)

NOW = datetime(2026, 11, 23, 12, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "body"),
    [
        (
            {"first_name": "Ann", "owner.external_id": "agent-2", "close_date": NOW},
            {
                "first_name": "Ann",
                "owner": {"external_id": "agent-2"},
                "close_date": "2026-11-23 12:30:05",
            },
        ),
        (
            {"id": "5", "email": "a@x.io", "loan_goal": "refi", "archived": True},
            {
                "email": "a@x.io",
                "archived": True,
                "custom": [{"field_name": "loan_goal", "value": "refi"}],
            },
        ),
        (
            {"custom": [{"field_name": "a", "value": 1}], "b": None, "owner": {"id": 1}},
            {
                "custom": [{"field_name": "a", "value": 1}, {"field_name": "b", "value": None}],
                "owner": {"id": 1},
            },
        ),
        ({"internal_updated_at": "x", "last_name": "Lee"}, {"last_name": "Lee"}),
    ],
)
def test_to_contact_body(payload: dict[str, Any], body: dict[str, Any]) -> None:
    assert to_contact_body(payload) == body


def test_contact_flattens_owner_and_custom_fields() -> None:
    record = to_remote_record(
        {
            "id": 7,
            "first_name": "Ann",
            "owner": {"id": 2, "username": "a", "email": "o@x", "external_id": "agent-2"},
            "custom": [{"field_name": "loan_goal", "value": "refi"}],
            "archived": "True",
            "internal_updated_at": "2026-11-23 12:30:05",
        }
    )
    assert record.remote_id == "7" and record.archived
    assert record.modified_at == NOW
    props = record.properties
    assert (props["owner.id"], props["owner.external_id"], props["loan_goal"]) == (
        2,
        "agent-2",
        "refi",
    )
    assert "custom" not in props and "owner" not in props


@pytest.mark.parametrize(
    ("entry", "body"),
    [
        (
            TimelineEntry("contacts", "7", "note", NOW, "Called", "Wants rates"),
            {
                "title": "Called",
                "note": "Wants rates",
                "type_id": 1,
                "contact": {"id": 7},
                "owner": {"id": 2},
            },
        ),
        (
            TimelineEntry("contacts", "7", "email_sent", NOW, data={"type_id": 4, "outcome": "x"}),
            {
                "title": "email sent",
                "note": "email sent",
                "type_id": 4,
                "contact": {"id": 7},
                "owner": {"id": 2},
                "outcome": "x",
            },
        ),
    ],
)
def test_to_note_body(entry: TimelineEntry, body: dict[str, Any]) -> None:
    assert to_note_body(entry, {"id": 2}) == body


def test_to_journey() -> None:
    journey = to_journey(
        {"id": 103, "name": "J", "category": "C", "trigger_type": "date", "active": "False"}
    )
    assert (journey.remote_id, journey.active, journey.category, journey.trigger) == (
        "103",
        False,
        "C",
        "date",
    )


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"item": "CONTACT", "action": "CREATED", "id": 5}, ("contacts", ChangeKind.CREATED)),
        ({"item": "CONTACT", "action": "ARCHIVED", "id": 5}, ("contacts", ChangeKind.DELETED)),
        ({"item": "CONTACT_NOTE", "action": "UPDATED", "id": 5}, ("notes", ChangeKind.UPDATED)),
        ({"item": "LOAN", "action": "CREATED", "id": 5}, None),
        ({"item": "CONTACT", "action": "MERGED", "id": 5}, None),
        ({"item": "CONTACT", "action": "CREATED"}, None),
    ],
)
def test_to_changes(event: dict[str, Any], expected: tuple[str, ChangeKind] | None) -> None:
    changes = to_changes({**event, "hashValue": "h1"})
    if expected is None:
        assert changes == []
        return
    assert [(c.object_type, c.kind, c.remote_id) for c in changes] == [(*expected, "5")]


def test_an_update_that_changed_nothing_repeats_the_event_id() -> None:
    first = to_changes({"item": "CONTACT", "action": "UPDATED", "id": 5, "hashValue": "h1"})
    same = to_changes({"item": "CONTACT", "action": "UPDATED", "id": 5, "hashValue": "h1"})
    other = to_changes({"item": "CONTACT", "action": "UPDATED", "id": 5, "hashValue": "h2"})
    assert first[0].event_id == same[0].event_id != other[0].event_id


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        (orjson.dumps({"item": "CONTACT", "secret": "s3cret"}), True),
        (orjson.dumps({"item": "CONTACT", "secret": "s3cret!"}), False),
        (orjson.dumps({"item": "CONTACT", "secret": ""}), False),
        (orjson.dumps({"item": "CONTACT", "secret": 1}), False),
        (orjson.dumps({"item": "CONTACT"}), False),
        (orjson.dumps(["s3cret"]), False),
        (b"not json", False),
    ],
)
def test_verify_secret(body: bytes, ok: bool) -> None:
    assert webhooks.verify_secret(body, Secret("s3cret")) is ok
