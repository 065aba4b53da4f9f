"""When an integration's scheduled sync is due: an interval (``30s``, ``15m``, ``1h``,
``1d``) or a cron line (``*/10 * * * *``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from croniter import croniter

_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MIN_INTERVAL = timedelta(seconds=10)


class ScheduleError(ValueError):
    pass


def parse(frequency: str) -> timedelta | str:
    """An interval as a timedelta, or a validated cron line; ScheduleError says what is wrong."""
    match = _INTERVAL.match(frequency)
    if match:
        interval = timedelta(**{_UNITS[match[2]]: int(match[1])})
        if interval < MIN_INTERVAL:
            raise ScheduleError(f"frequency {frequency!r} is shorter than {MIN_INTERVAL}")
        return interval
    if croniter.is_valid(frequency):
        return frequency
    raise ScheduleError(
        f"frequency {frequency!r} is neither an interval (30s, 15m, 1h, 1d) nor a cron line"
    )


def next_run(frequency: str, last_run: datetime | None, now: datetime | None = None) -> datetime:
    """When the next run is due; a never-run integration is due now."""
    now = now or datetime.now(UTC)
    if last_run is None:
        return now
    rule = parse(frequency)
    if isinstance(rule, timedelta):
        return last_run + rule
    return croniter(rule, last_run).get_next(datetime).astimezone(UTC)


def is_due(frequency: str, last_run: datetime | None, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return next_run(frequency, last_run, now) <= now
