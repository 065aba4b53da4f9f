"""Proactive rate limiting: spend a provider's window budgets before it answers 429.

A ``RateProfile`` lists budgets (100 per 10 s sliding, 250,000 per day fixed, a token
budget where calls cost different amounts). A ``RateLimiter`` spends them for one
integration through a backend: ``MemoryWindows`` in-process, ``RedisWindows`` when
several hosts share the integration. ``acquire`` blocks (through the injected sleep)
until every budget has room, or raises ``RateLimited`` when the wait is longer than the
caller should block for (a spent daily quota), so the worker reschedules instead.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from crmsync.connectors.errors import RateLimited

__all__ = [
    "Budget",
    "ExtraBudgets",
    "MemoryWindows",
    "RateLimiter",
    "RateProfile",
    "WindowBackend",
]


@dataclass(frozen=True, slots=True)
class Budget:
    """``limit`` units per ``period`` seconds.

    ``sliding`` counts the last ``period`` seconds exactly; ``fixed`` resets at multiples
    of ``period`` after ``offset`` (a daily quota resetting at midnight of a time zone
    is ``period=86400, offset=-utc_offset``). Long periods should be fixed windows: a
    sliding window remembers every call inside it.
    """

    limit: float
    period: float
    kind: Literal["sliding", "fixed"] = "sliding"
    offset: float = 0.0

    def __post_init__(self) -> None:
        if self.limit <= 0 or self.period <= 0:
            raise ValueError("budget limit and period must be positive")


@dataclass(frozen=True, slots=True)
class RateProfile:
    """A provider's budgets, spent together: a call goes out when all have room."""

    name: str
    budgets: tuple[Budget, ...]
    # share of each limit actually spent: headroom for clocks and other API users
    utilisation: float = 1.0

    def effective(self) -> tuple[Budget, ...]:
        """Budgets scaled by ``utilisation``."""
        if self.utilisation == 1.0:
            return self.budgets
        return tuple(
            Budget(max(1.0, b.limit * self.utilisation), b.period, b.kind, b.offset)
            for b in self.budgets
        )


class WindowBackend(Protocol):
    """Where windows live. ``try_acquire`` returns 0 when granted, else seconds to wait."""

    def try_acquire(
        self, key: str, budgets: Sequence[Budget], cost: float, now: float
    ) -> float: ...

    def block(self, key: str, until: float) -> None: ...


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sliding: dict[int, deque[tuple[float, float]]] = field(default_factory=dict)
    # running totals of the sliding logs, so a decision does not re-add the whole window
    sliding_used: dict[int, float] = field(default_factory=dict)
    fixed: dict[int, tuple[int, float]] = field(default_factory=dict)
    blocked_until: float = 0.0


class MemoryWindows:
    """In-process windows (the default): exact for every thread of this process."""

    def __init__(self) -> None:
        self._states: dict[str, _State] = {}
        self._guard = threading.Lock()

    def _state(self, key: str) -> _State:
        with self._guard:
            return self._states.setdefault(key, _State())

    def try_acquire(self, key: str, budgets: Sequence[Budget], cost: float, now: float) -> float:
        state = self._state(key)
        with state.lock:
            if state.blocked_until > now:
                return state.blocked_until - now
            wait = 0.0
            for index, budget in enumerate(budgets):
                if budget.kind == "sliding":
                    log = state.sliding.setdefault(index, deque())
                    used = state.sliding_used.get(index, 0.0)
                    while log and log[0][0] <= now - budget.period:
                        used -= log.popleft()[1]
                    state.sliding_used[index] = used = max(0.0, used) if log else 0.0
                    wait = max(wait, _sliding_wait(log, used, budget, cost, now))
                else:
                    window = _window(budget, now)
                    current, used = state.fixed.get(index, (window, 0.0))
                    used = used if current == window else 0.0
                    state.fixed[index] = (window, used)
                    if used + cost > budget.limit:
                        wait = max(wait, _window_end(budget, window) - now)
            if wait > 0:
                return wait
            for index, budget in enumerate(budgets):
                if budget.kind == "sliding":
                    state.sliding[index].append((now, cost))
                    state.sliding_used[index] += cost
                else:
                    window, used = state.fixed[index]
                    state.fixed[index] = (window, used + cost)
            return 0.0

    def block(self, key: str, until: float) -> None:
        state = self._state(key)
        with state.lock:
            state.blocked_until = max(state.blocked_until, until)


def _sliding_wait(
    log: deque[tuple[float, float]], used: float, budget: Budget, cost: float, now: float
) -> float:
    excess = used + cost - budget.limit
    if excess <= 0:
        return 0.0
    freed = 0.0
    for at, spent in log:
        freed += spent
        if freed >= excess:
            return at + budget.period - now
    return budget.period


def _window(budget: Budget, now: float) -> int:
    return int((now - budget.offset) // budget.period)


def _window_end(budget: Budget, window: int) -> float:
    return (window + 1) * budget.period + budget.offset


class ExtraBudgets:
    """A window backend that adds an integration's own budgets (``config.rate_budgets``,
    e.g. 10,000 calls per hour for a bulk sync) to every decision of its limiters, so a
    call goes out only when the provider's budgets and its own all have room."""

    def __init__(self, inner: WindowBackend, extra: Sequence[Budget]) -> None:
        self.inner = inner
        self.extra = tuple(extra)

    def try_acquire(self, key: str, budgets: Sequence[Budget], cost: float, now: float) -> float:
        return self.inner.try_acquire(key, (*budgets, *self.extra), cost, now)

    def block(self, key: str, until: float) -> None:
        self.inner.block(key, until)


class RateLimiter:
    """Spends one integration's budgets; shared by every client of that integration."""

    def __init__(
        self,
        profile: RateProfile,
        key: str,
        backend: WindowBackend | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 60.0,
    ):
        self.profile = profile
        self.key = key
        self._budgets = profile.effective()
        self._backend: WindowBackend = backend if backend is not None else MemoryWindows()
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        limits = min(b.limit for b in self._budgets) if self._budgets else 0.0
        self._max_cost = limits

    def acquire(self, cost: float = 1.0) -> float:
        """Block until ``cost`` units fit every budget; return the seconds waited."""
        if self._budgets and cost > self._max_cost:
            raise ValueError(f"a call costing {cost} can never fit profile {self.profile.name}")
        waited = 0.0
        while self._budgets:
            wait = self._backend.try_acquire(self.key, self._budgets, cost, self._clock())
            if wait <= 0:
                break
            if waited + wait > self._max_wait:
                raise RateLimited(
                    f"rate budget of {self.profile.name} spent", retry_after=wait, code="BUDGET"
                )
            self._sleep(wait)
            waited += wait
        return waited

    def penalize(self, seconds: float) -> None:
        """Hold every caller of this integration for ``seconds`` (after a 429)."""
        self._backend.block(self.key, self._clock() + seconds)
