"""Which events are which activities, and when timeline entries fall due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmsync.marketing.activities import _direction, activity_type_of
from crmsync.marketing.timeline import next_slot


@pytest.mark.parametrize(
    ("event_type", "data", "kind", "direction"),
    [
        ("message.sent", {}, "message", "outbound"),
        ("message.received", {}, "message", "inbound"),
        ("email.opened", {}, "email", "inbound"),
        ("email.sent", {"direction": "inbound"}, "email", "inbound"),
        ("push.sent", {}, "push_notification", "outbound"),
        ("push.opened", {}, "push_notification", "inbound"),
        ("call.logged", {}, "call", "inbound"),
        ("loan.milestone_updated", {}, "milestone_update", "inbound"),
        ("loan.application_submitted", {}, "pos_application_submitted", "inbound"),
        ("rate_alert.triggered", {}, "rate_alert", "inbound"),
        ("activity.logged", {"type": "meeting"}, "meeting", "inbound"),
        ("activity.logged", {"type": "sms", "direction": "outbound"}, "sms", "outbound"),
        ("activity.logged", {"type": "login"}, None, None),
        ("lead.created", {}, None, None),
        ("engagement.high", {}, None, None),
    ],
)
def test_event_to_activity(
    event_type: str, data: dict[str, str], kind: str | None, direction: str | None
) -> None:
    assert activity_type_of(event_type, data) == kind
    if kind is not None:
        assert _direction(event_type, data) == direction


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from([1, 5, 15, 60]),
    st.integers(min_value=0, max_value=3600),
)
def test_one_window_one_slot(now: datetime, interval: int, later: int) -> None:
    slot = next_slot(now, interval)
    assert now < slot <= now + timedelta(minutes=interval)
    assert int(slot.timestamp()) % (interval * 60) == 0
    other = now + timedelta(seconds=later)
    # a later activity shares the slot exactly when it comes before the slot
    assert (next_slot(other, interval) == slot) == (other < slot)


def test_no_interval_is_now() -> None:
    now = datetime(2026, 1, 1, 10, 7, tzinfo=UTC)
    assert next_slot(now, 0) == now
