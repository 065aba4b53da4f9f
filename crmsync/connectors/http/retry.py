"""Retry policy for transient failures, and reading a provider's requested wait."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["RetryPolicy", "retry_after_seconds"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: ``base * 2**n`` capped at ``cap``, plus up to ``jitter`` share.

    ``attempts`` counts every try, the first included. The defaults follow the sync
    semantics (1, 2, 4, 8, 16 s over 5 attempts); connectors use a shorter in-call policy
    and leave longer waits to the worker's job scheduling.
    """

    attempts: int = 5
    base: float = 1.0
    cap: float = 16.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or not 0 <= self.jitter <= 1:
            raise ValueError("base and cap must be >= 0 and jitter within [0, 1]")

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        raw = min(self.cap, self.base * (2**retry))
        if not self.jitter:
            return raw
        # Jitter is for spreading load, not security.
        roll = (rng or random).random()
        return raw * (1 + self.jitter * roll)

    def allows(self, attempt: int) -> bool:
        """Whether a try numbered ``attempt`` (1-based) is still within the budget."""
        return attempt <= self.attempts


# Provider headers that say how long to wait, checked in order after Retry-After.
_WAIT_HEADERS = ("x-ratelimit-reset",)
_MAX_WAIT = 86_400.0


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """The wait a response asks for (``Retry-After`` seconds or HTTP date), if any."""
    value = response.headers.get("retry-after")
    if value is not None:
        value = value.strip()
        try:
            return _bounded(float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = now or datetime.now(UTC)
        return _bounded((when - current).total_seconds())
    if response.status_code != 429:
        return None
    for header in _WAIT_HEADERS:
        raw = response.headers.get(header)
        if raw is not None:
            try:
                return _bounded(float(raw))
            except ValueError:
                continue
    return None


def _bounded(seconds: float) -> float:
    return max(0.0, min(seconds, _MAX_WAIT))
