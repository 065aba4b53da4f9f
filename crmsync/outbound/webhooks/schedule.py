"""When a failed delivery is tried again: a growing schedule over about a day."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Schedule:
    """Waits after each failed attempt; one attempt more than waits, then the delivery dies.

    The default follows the Standard Webhooks recommendation: at once, then 5 s, 5 min,
    30 min, 2 h, 5 h, 10 h and 10 h (about 27.6 hours in all).
    """

    waits: tuple[timedelta, ...] = (
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
    )
    jitter: float = 0.1  # +/- this share of each wait, so failed endpoints do not stampede

    @property
    def attempts(self) -> int:
        return len(self.waits) + 1

    def wait_after(self, attempt: int, rng: random.Random | None = None) -> timedelta | None:
        """The wait after failed attempt number ``attempt`` (1-based); None: no more tries."""
        if attempt >= self.attempts:
            return None
        base = self.waits[attempt - 1]
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return base * (1 + spread)


DEFAULT = Schedule()
