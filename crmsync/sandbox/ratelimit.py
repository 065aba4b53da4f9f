"""Rate-limit profiles and the limiter every sandbox runs in front of its API.

A `RateProfile` is a named set of `RateWindow`s (for example HubSpot's
"100 requests per 10 s" plus "250,000 per day"). Each window counts requests of one
*bucket* (``"default"``, or e.g. ``"search"`` for endpoints with their own limit) in
fixed windows that start at the first request after the previous window ended; the
``reset`` a client sees is the time left in that window. A request may cost more than
one unit (Pipedrive's token costs). Providers turn a `RateDecision` into their own
headers and 429 (or 403) body.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

DEFAULT_BUCKET = "default"


@dataclass(frozen=True)
class RateWindow:
    """At most `limit` units per `seconds` for requests of `bucket`.

    `policy` is the provider's name for the window (HubSpot ``TEN_SECONDLY_ROLLING``
    or ``DAILY``), reported in the 429 body.
    """

    policy: str
    limit: int
    seconds: float
    bucket: str = DEFAULT_BUCKET


@dataclass(frozen=True)
class RateProfile:
    """A named tier, e.g. HubSpot ``professional`` or Pipedrive ``growth``."""

    name: str
    windows: tuple[RateWindow, ...]
    description: str = ""


OFF = RateProfile(name="off", windows=(), description="no limits")


@dataclass(frozen=True)
class WindowUsage:
    """How much of one window is used after the current request."""

    window: RateWindow
    used: int
    remaining: int
    reset_seconds: float


@dataclass(frozen=True)
class RateDecision:
    """Outcome of one request: allowed or not, and the usage of each window."""

    allowed: bool
    usages: tuple[WindowUsage, ...] = ()
    violated: WindowUsage | None = None

    @property
    def retry_after(self) -> int:
        """Whole seconds until the violated window resets (at least 1)."""
        if self.violated is None:
            return 0
        return max(1, int(self.violated.reset_seconds + 0.999))

    def usage(self, policy: str) -> WindowUsage | None:
        """The usage of the window named `policy`, if it applies to this request."""
        return next((u for u in self.usages if u.window.policy == policy), None)


ALLOWED = RateDecision(allowed=True)


@dataclass
class _Counter:
    started: float = 0.0
    used: int = 0


@dataclass
class RateLimiter:
    """Counts requests against a profile; thread-safe, O(windows) per request."""

    profile: RateProfile
    clock: Callable[[], float] = time.monotonic
    _counters: dict[RateWindow, _Counter] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, bucket: str = DEFAULT_BUCKET, cost: int = 1) -> RateDecision:
        """Count a request of `bucket` and say whether it is within every window.

        A refused request is not counted (real APIs do not charge for a 429).
        """
        windows = [w for w in self.profile.windows if w.bucket == bucket]
        if not windows:
            return ALLOWED
        now = self.clock()
        with self._lock:
            counters = [self._counter(w, now) for w in windows]
            violated = None
            for window, counter in zip(windows, counters, strict=True):
                if counter.used + cost > window.limit:
                    violated = _usage(window, counter, now)
                    break
            if violated is None:
                for counter in counters:
                    counter.used += cost
            usages = tuple(_usage(w, c, now) for w, c in zip(windows, counters, strict=True))
        return RateDecision(allowed=violated is None, usages=usages, violated=violated)

    def peek(self, bucket: str = DEFAULT_BUCKET) -> tuple[WindowUsage, ...]:
        """Usage of the windows of `bucket` without counting a request."""
        now = self.clock()
        with self._lock:
            return tuple(
                _usage(w, self._counter(w, now), now)
                for w in self.profile.windows
                if w.bucket == bucket
            )

    def reset(self) -> None:
        """Forget all counts."""
        with self._lock:
            self._counters.clear()

    def _counter(self, window: RateWindow, now: float) -> _Counter:
        counter = self._counters.get(window)
        if counter is None or now - counter.started >= window.seconds:
            counter = _Counter(started=now)
            self._counters[window] = counter
        return counter


def _usage(window: RateWindow, counter: _Counter, now: float) -> WindowUsage:
    return WindowUsage(
        window=window,
        used=counter.used,
        remaining=max(0, window.limit - counter.used),
        reset_seconds=max(0.0, window.seconds - (now - counter.started)),
    )


def profiles(*items: RateProfile) -> dict[str, RateProfile]:
    """A name -> profile mapping that always contains ``off``."""
    return {OFF.name: OFF, **{p.name: p for p in items}}


def select_profile(
    available: dict[str, RateProfile], name: str | None, default: str
) -> RateProfile:
    """The profile `name` (or `default` when None); a clear error for unknown names."""
    chosen = default if name is None else name
    try:
        return available[chosen]
    except KeyError:
        known = ", ".join(sorted(available))
        raise ValueError(f"unknown rate profile {chosen!r}; known: {known}") from None


def windows_of(profile: RateProfile, bucket: str) -> Sequence[RateWindow]:
    """The windows of `profile` that apply to `bucket`."""
    return [w for w in profile.windows if w.bucket == bucket]
