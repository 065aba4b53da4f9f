"""SOQL date literals (``TODAY``, ``LAST_MONTH``, ``N_DAYS_AGO:3`` …) as half-open UTC
spans of the day the query runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta


def date_range(word: str, today: date) -> tuple[datetime, datetime] | None:
    """The [start, end) span of a SOQL date literal, in UTC (the org's time zone).

    Weeks start on Sunday (the en_US locale), quarters and years are calendar ones
    (the default fiscal year). ``LAST_N_…`` spans end before the current unit, except
    ``LAST_N_DAYS``, which includes today, as Salesforce documents.
    """
    name, colon, amount = word.partition(":")
    n = int(amount) if amount.isdigit() else -1
    if colon and n < 0:
        return None
    span = _day_span(name, n, today) or _calendar_span(name, n, today)
    takes_n = "_N_" in name or name.startswith("N_")
    if span is None or takes_n != bool(colon):
        return None
    start, end = span
    return (
        datetime.combine(start, time(), tzinfo=UTC),
        datetime.combine(end, time(), tzinfo=UTC),
    )


def _day_span(name: str, n: int, today: date) -> tuple[date, date] | None:
    days = {
        "TODAY": (0, 1),
        "YESTERDAY": (-1, 0),
        "TOMORROW": (1, 2),
        "LAST_90_DAYS": (-90, 1),
        "NEXT_90_DAYS": (1, 91),
        "LAST_N_DAYS": (-n, 1),
        "NEXT_N_DAYS": (1, n + 1),
        "N_DAYS_AGO": (-n, -n + 1),
    }.get(name)
    if days is None:
        return None
    return today + timedelta(days=days[0]), today + timedelta(days=days[1])


def _calendar_span(name: str, n: int, today: date) -> tuple[date, date] | None:
    relative = {"THIS": (0, 1), "LAST": (-1, 0), "NEXT": (1, 2)}
    head, _, unit = name.partition("_")
    if head in relative and unit in _UNITS:
        offsets = relative[head]
    elif name.startswith(("LAST_N_", "NEXT_N_")) and name[7:] in _PLURAL:
        unit = _PLURAL[name[7:]]
        offsets = (-n, 0) if head == "LAST" else (1, n + 1)
    elif name.startswith("N_") and name.endswith("_AGO") and name[2:-4] in _PLURAL:
        unit = _PLURAL[name[2:-4]]
        offsets = (-n, -n + 1)
    else:
        return None
    first, months = _UNITS[unit]
    start = first(today)
    return _shift(start, months, offsets[0]), _shift(start, months, offsets[1])


def _shift(start: date, months: int, count: int) -> date:
    """`count` units after `start`: weeks when `months` is 0, else months-long units."""
    if not months:
        return start + timedelta(days=7 * count)
    index = start.year * 12 + start.month - 1 + months * count
    return date(index // 12, index % 12 + 1, 1)


# unit -> (first day of the unit holding a date, its length in months; 0 = a week)
_UNITS: dict[str, tuple[Callable[[date], date], int]] = {
    "WEEK": (lambda d: d - timedelta(days=(d.weekday() + 1) % 7), 0),
    "MONTH": (lambda d: d.replace(day=1), 1),
    "QUARTER": (lambda d: d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1), 3),
    "YEAR": (lambda d: d.replace(month=1, day=1), 12),
}
_PLURAL = {"WEEKS": "WEEK", "MONTHS": "MONTH", "QUARTERS": "QUARTER", "YEARS": "YEAR"}
