"""Timestamp text the sandboxes read and write (UTC ISO-8601, epoch milliseconds)."""

from __future__ import annotations

import datetime as dt
import functools


@functools.lru_cache(maxsize=4096)  # a batch shares one timestamp; rendering is hot
def iso_ms(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 with milliseconds, e.g. ``2024-05-01T10:00:00.123Z``."""
    moment = dt.datetime.fromtimestamp(ms // 1000, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso(seconds: float) -> str:
    """Epoch seconds as ISO-8601 with milliseconds and ``Z``."""
    return iso_ms(int(seconds * 1000))


def parse_iso(text: str) -> float | None:
    """Epoch seconds from ISO-8601 (naive means UTC; None when unparseable)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def to_ms(value: str) -> int | None:
    """Epoch milliseconds from a milliseconds string or ISO-8601 (None if neither)."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    seconds = parse_iso(text)
    return None if seconds is None else round(seconds * 1000)
