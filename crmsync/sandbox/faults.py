"""Seeded fault injection: the same seed and request sequence give the same faults.

Kinds: ``429`` (throttled, with Retry-After), ``500``/``502``/``503`` (server errors in
the provider's error shape), ``slow`` (the answer comes after `slow_ms`) and ``drop``
(the socket is closed without any HTTP answer). Besides the random rate, faults can be
forced on the next N calls, optionally only for paths under a prefix.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Literal, get_args

FaultKind = Literal["429", "500", "502", "503", "slow", "drop"]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)


def parse_kind(value: object) -> FaultKind:
    """A fault kind from user input (``503`` or ``"503"``); ValueError otherwise."""
    text = str(value)
    for kind in FAULT_KINDS:
        if kind == text:
            return kind
    raise ValueError(f"unknown fault kind {value!r}; known: {', '.join(FAULT_KINDS)}")


@dataclass
class ForcedFault:
    """`remaining` more requests (under `path_prefix` if set) fail with `kind`."""

    kind: FaultKind
    remaining: int
    path_prefix: str | None = None

    def matches(self, path: str, exempt: bool) -> bool:
        """Forced faults skip exempt paths unless their prefix names them explicitly."""
        if self.path_prefix is None:
            return not exempt
        return path.startswith(self.path_prefix)


@dataclass
class FaultInjector:
    """Decides, per request, whether to inject a fault and which one."""

    rate: float = 0.0
    seed: int | None = None
    kinds: tuple[FaultKind, ...] = FAULT_KINDS
    _rng: random.Random = field(init=False)
    _forced: deque[ForcedFault] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    injected: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        self._rng = random.Random(self.seed)  # noqa: S311 - repeatable, not security

    def configure(
        self,
        rate: float | None = None,
        seed: int | None = None,
        kinds: tuple[FaultKind, ...] | None = None,
    ) -> None:
        """Change the random rate, seed or kinds; a new seed restarts the sequence."""
        with self._lock:
            if rate is not None:
                if not 0.0 <= rate <= 1.0:
                    raise ValueError("fault rate must be between 0 and 1")
                self.rate = rate
            if kinds is not None:
                self.kinds = kinds
            if seed is not None:
                self.seed = seed
                self._rng = random.Random(seed)  # noqa: S311

    def force(self, kind: FaultKind, count: int, path_prefix: str | None = None) -> None:
        """Make the next `count` matching requests fail with `kind`."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._forced.append(ForcedFault(kind, count, path_prefix))

    def forced_remaining(self) -> int:
        """How many forced faults are still pending."""
        with self._lock:
            return sum(f.remaining for f in self._forced)

    def reset(self) -> None:
        """Drop forced faults and restart the seeded sequence."""
        with self._lock:
            self._forced.clear()
            self._rng = random.Random(self.seed)  # noqa: S311
            self.injected = 0

    def draw(self, path: str, exempt: bool) -> FaultKind | None:
        """The fault for this request, or None. Exempt paths only get forced faults."""
        with self._lock:
            for forced in self._forced:
                if forced.matches(path, exempt):
                    forced.remaining -= 1
                    if forced.remaining == 0:
                        self._forced.remove(forced)
                    self.injected += 1
                    return forced.kind
            if exempt or self.rate <= 0.0 or not self.kinds:
                return None
            if self._rng.random() >= self.rate:
                return None
            self.injected += 1
            return self._rng.choice(self.kinds)
