"""Pipedrive rate limits: 2-second burst windows per plan and the daily token budget."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from crmsync.sandbox.ratelimit import RateProfile, RateWindow, profiles

BURST_SECONDS = 2.0
SEARCH_BUCKET = "search"
SEARCH_LIMIT = 10  # search endpoints: 10 requests per 2 s on every plan
DAILY_BASE = 30_000  # daily budget = 30,000 x plan multiplier x seats

# plan -> (api-token burst, OAuth burst, daily multiplier)
PLANS: dict[str, tuple[int, int, int]] = {
    "lite": (20, 80, 1),
    "growth": (40, 160, 2),
    "premium": (100, 400, 5),
    "ultimate": (120, 480, 7),
}


def _profile(name: str, burst: int) -> RateProfile:
    return RateProfile(
        name=name,
        windows=(
            RateWindow("burst", burst, BURST_SECONDS),
            RateWindow("search", SEARCH_LIMIT, BURST_SECONDS, bucket=SEARCH_BUCKET),
        ),
        description=f"{burst} requests / 2 s, search {SEARCH_LIMIT} / 2 s",
    )


RATE_PROFILES = profiles(
    *[_profile(plan, api) for plan, (api, _oauth, _m) in PLANS.items()],
    *[_profile(f"{plan}-oauth", oauth) for plan, (_api, oauth, _m) in PLANS.items()],
)


def plan_of(profile_name: str) -> str | None:
    plan = profile_name.removesuffix("-oauth")
    return plan if plan in PLANS else None


# x-token-cost per operation (v1; v2 costs about half)
V1_COSTS = {"list": 20, "get": 2, "write": 10, "delete": 6, "search": 40}
V2_COSTS = {"list": 10, "get": 1, "write": 5, "delete": 3, "search": 20}


def operation(method: str, path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if parts and parts[-1] == "search":
        return "search"
    if method == "GET":
        # /v1/persons, /api/v2/persons, /v1/deals/archived are lists; /v1/persons/5 is a get
        return "get" if len(parts) >= 2 and _is_id(parts[-1]) else "list"
    return "delete" if method == "DELETE" else "write"


def _is_id(segment: str) -> bool:
    return segment.isdigit() or (len(segment) == 36 and segment.count("-") == 4)


def cost(method: str, path: str) -> int:
    table = V2_COSTS if path.startswith("/api/v2/") else V1_COSTS
    return table[operation(method, path)]


@dataclass
class TokenBudget:
    """The company's daily token budget; resets at midnight (UTC here)."""

    clock: Callable[[], float]
    seats: int = 1
    override: int | None = None  # a fixed daily budget instead of the plan formula
    used: int = 0
    day: int = -1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def limit(self, plan: str) -> int:
        if self.override is not None:
            return self.override
        return DAILY_BASE * PLANS[plan][2] * self.seats

    def spend(self, plan: str, tokens: int) -> tuple[bool, int, int]:
        """(allowed, limit, remaining); a refused request costs nothing."""
        limit = self.limit(plan)
        with self.lock:
            today = int(self.clock() // 86400)
            if today != self.day:
                self.day, self.used = today, 0
            allowed = self.used + tokens <= limit
            if allowed:
                self.used += tokens
            return allowed, limit, max(0, limit - self.used)

    def seconds_to_reset(self) -> int:
        return int(86400 - self.clock() % 86400)

    def reset(self) -> None:
        with self.lock:
            self.used, self.day = 0, -1
