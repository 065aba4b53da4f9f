"""Scheduled sync frequencies: intervals and cron lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmsync.sync.schedule import ScheduleError, is_due, next_run, parse

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        (" 1h ", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("*/10 * * * *", "*/10 * * * *"),
        ("hourly", timedelta(hours=1)),
        ("Daily", timedelta(days=1)),
    ],
)
def test_parse(frequency: str, expected: object) -> None:
    assert parse(frequency) == expected


@pytest.mark.parametrize("frequency", ["", "fortnightly", "5", "1w", "1s", "61 * * * *"])
def test_bad_frequencies_say_what_is_accepted(frequency: str) -> None:
    with pytest.raises(ScheduleError):
        parse(frequency)


def test_next_run() -> None:
    assert next_run("1h", None, T0) == T0
    assert next_run("1h", T0) == T0 + timedelta(hours=1)
    assert next_run("*/10 * * * *", T0 + timedelta(minutes=3)) == T0 + timedelta(minutes=10)
    assert is_due("15m", T0, T0 + timedelta(minutes=15))
    assert not is_due("15m", T0, T0 + timedelta(minutes=14))
