"""The API quota each CRM reports in its answers' headers, kept per integration.

- Salesforce: ``Sforce-Limit-Info: api-usage=18/5000`` (rolling 24 h) on every answer;
- HubSpot: ``X-HubSpot-RateLimit-Daily`` / ``-Daily-Remaining`` (private apps), and the
  ten-second ``X-HubSpot-RateLimit-Max`` / ``-Remaining``;
- Pipedrive: ``x-daily-ratelimit-token-limit`` / ``-remaining`` (the daily token
  budget), and the burst window ``x-ratelimit-limit`` / ``-remaining``.

The request logger notes each answer's figures in a process-wide ``BOOK``; the worker
writes what changed to ``api_quotas`` (``sync.health.flush_quotas``), where the health
answer and the metrics read them, whichever process made the call.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["BOOK", "Quota", "QuotaBook", "Window", "read_quota", "window_of"]


@dataclass(frozen=True, slots=True)
class Quota:
    """``used`` of ``limit`` in the window called ``name`` (daily, daily-tokens, burst)."""

    name: str
    used: int
    limit: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


_SFORCE = re.compile(r"api-usage=(\d+)/(\d+)")


def _pair(headers: Mapping[str, str], limit: str, remaining: str, name: str) -> Quota | None:
    try:
        total, left = int(headers[limit]), int(headers[remaining])
    except (KeyError, ValueError):
        return None
    return Quota(name, max(0, total - left), total)


def read_quota(headers: Mapping[str, str]) -> list[Quota]:
    """The quota figures of one answer's headers (``headers`` case-insensitive)."""
    found: list[Quota] = []
    info = headers.get("sforce-limit-info")
    if info:
        match = _SFORCE.search(info)
        if match:
            found.append(Quota("daily", int(match[1]), int(match[2])))
    for limit, remaining, name in (
        ("x-hubspot-ratelimit-daily", "x-hubspot-ratelimit-daily-remaining", "daily"),
        ("x-hubspot-ratelimit-max", "x-hubspot-ratelimit-remaining", "burst"),
        ("x-daily-ratelimit-token-limit", "x-daily-ratelimit-token-remaining", "daily-tokens"),
        ("x-ratelimit-limit", "x-ratelimit-remaining", "burst"),
    ):
        quota = _pair(headers, limit, remaining, name)
        if quota is not None and all(q.name != name for q in found):
            found.append(quota)
    return found


@dataclass(frozen=True, slots=True)
class Window:
    """How a CRM's quota window frees up: ``rolling`` over ``length`` (a call leaves the
    count ``length`` after it was made), or reset to zero at midnight (``length`` None)
    in the time zone ``where`` names."""

    rolling: bool
    length: timedelta | None = None
    where: str = ""

    def resets_at(self, observed_at: datetime) -> datetime | None:
        """By when the use counted at ``observed_at`` is gone: the end of the rolling
        window, or the next midnight (UTC: the CRM's own zone is not known here)."""
        if self.rolling:
            return observed_at + self.length if self.length is not None else None
        midnight = observed_at.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight + timedelta(days=1)

    def describe(self) -> str:
        if not self.rolling:
            return f"daily, resets at midnight ({self.where})"
        if self.length is None:
            return "rolling"
        seconds = int(self.length.total_seconds())
        return f"rolling {seconds // 3600} h" if seconds >= 3600 else f"rolling {seconds} s"


# (provider, window name) -> how it frees up (docs/integrations.md, the CRMs' own docs)
_WINDOWS = {
    ("salesforce", "daily"): Window(rolling=True, length=timedelta(hours=24)),
    ("hubspot", "daily"): Window(rolling=False, where="the HubSpot account's time zone"),
    ("hubspot", "burst"): Window(rolling=True, length=timedelta(seconds=10)),
    ("pipedrive", "daily-tokens"): Window(rolling=False, where="Pipedrive's server time"),
    ("pipedrive", "burst"): Window(rolling=True, length=timedelta(seconds=2)),
}


def window_of(provider: str, name: str) -> Window | None:
    """The window a quota figure counts in, when the provider's rules are known."""
    return _WINDOWS.get((provider, name))


class QuotaBook:
    """The figures seen per (integration, window) since they were last taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[uuid.UUID, str], tuple[Quota, datetime]] = {}

    def note(self, integration_id: uuid.UUID, quotas: list[Quota]) -> None:
        now = datetime.now(UTC)
        with self._lock:
            for quota in quotas:
                self._pending[(integration_id, quota.name)] = (quota, now)

    def take_dirty(self) -> list[tuple[uuid.UUID, Quota, datetime]]:
        """The latest figures of each (integration, window) noted since the last take."""
        with self._lock:
            taken, self._pending = self._pending, {}
        return [(key[0], quota, at) for key, (quota, at) in taken.items()]


BOOK = QuotaBook()
