"""When an integration's scheduled sync is due: an interval (``30s``, ``15m``, ``1h``,
``1d``, or the words ``hourly``/``daily``) or a cron line (``*/10 * * * *``).

Object types may also run in real time (``realtime``): they have no schedule at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from croniter import croniter

from crmsync.connectors.http.ratelimit import Budget

_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MIN_INTERVAL = timedelta(seconds=10)
# spellings of "no schedule: as soon as a change is made"
REALTIME = frozenset({"realtime", "real time", "real-time", "immediate"})
_WORDS = {"hourly": "1h", "daily": "1d", "weekly": "7d"}


class ScheduleError(ValueError):
    pass


def parse(frequency: str) -> timedelta | str:
    """An interval as a timedelta, or a validated cron line; ScheduleError says what is wrong."""
    frequency = _WORDS.get(frequency.strip().lower(), frequency)
    match = _INTERVAL.match(frequency)
    if match:
        interval = timedelta(**{_UNITS[match[2]]: int(match[1])})
        if interval < MIN_INTERVAL:
            raise ScheduleError(f"frequency {frequency!r} is shorter than {MIN_INTERVAL}")
        return interval
    if croniter.is_valid(frequency):
        return frequency
    raise ScheduleError(
        f"frequency {frequency!r} is neither an interval (30s, 15m, 1h, 1d, hourly, daily) "
        "nor a cron line"
    )


def parse_budget(limit: float, per: str) -> Budget:
    """``limit`` requests per interval ``per`` (``10s``, ``1h``…) as a rate budget; windows
    of an hour or more are fixed (a sliding one would remember every call in it)."""
    match = _INTERVAL.match(_WORDS.get(per.strip().lower(), per))
    if not match:
        raise ScheduleError(f"window {per!r} is not an interval (10s, 1m, 1h, 1d)")
    seconds = timedelta(**{_UNITS[match[2]]: int(match[1])}).total_seconds()
    if seconds <= 0:
        raise ScheduleError(f"window {per!r} is empty")
    return Budget(limit, seconds, "fixed" if seconds >= 3600 else "sliding")


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
