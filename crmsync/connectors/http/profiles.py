"""Rate profiles of each provider, from its published limits.

Integrations pick one by name (``rate_profile`` in their config) and may override it.
"""

from __future__ import annotations

from collections.abc import Mapping

from crmsync.connectors.http.ratelimit import Budget, RateProfile

__all__ = ["PROFILES", "profile"]

DAY = 86_400.0

# The limiter counts a call when it sends it; providers count it when it arrives, a
# connect or a slow request later. Spending the whole window sends its last call just
# as the provider's window (which began at our first call's arrival) is still open, and
# that call comes back 429 with a full window's wait. Spending 98 % leaves that margin
# (bench/connectors.py: HubSpot free at 1.0 saw one 429 per run, at 0.98 none).
EDGE = 0.98

PROFILES: Mapping[str, RateProfile] = {
    p.name: p
    for p in (
        # private apps: per-app burst per 10 s, plus a daily account budget
        RateProfile("hubspot-free", (Budget(100, 10), Budget(250_000, DAY, "fixed")), EDGE),
        RateProfile("hubspot-professional", (Budget(190, 10), Budget(625_000, DAY, "fixed")), EDGE),
        RateProfile("hubspot-enterprise", (Budget(190, 10), Budget(1_000_000, DAY, "fixed")), EDGE),
        # public OAuth apps: per installing account, no daily budget
        RateProfile("hubspot-oauth", (Budget(110, 10),), EDGE),
        # small budgets keep 1.0: 2 % of 5 calls is a whole call lost per window
        RateProfile("hubspot-search", (Budget(5, 1),)),
        # a rolling 24 h allocation; counted in hour-long fixed windows to stay small (the
        # connector also reads the org's own count from Sforce-Limit-Info)
        RateProfile("salesforce-developer", (Budget(15_000 / 24, 3600, "fixed"),)),
        RateProfile("salesforce-enterprise", (Budget(100_000 / 24, 3600, "fixed"),)),
        # burst per 2 s per token; a call costs its endpoint's token price (daily budget
        # depends on plan and seats, so it is configured per integration). No EDGE: every
        # answer reports Pipedrive's own window, which the limiter follows
        # (pipedrive/limits.py), and 2 % of 10 searches would be a whole search less
        RateProfile("pipedrive-api-token-growth", (Budget(40, 2),)),
        RateProfile("pipedrive-oauth-growth", (Budget(160, 2),)),
        # the limiter counts a search when it leaves, the CRM when it arrives: a window a
        # tenth longer than Pipedrive's absorbs the gap between processes' sends (two
        # workers sharing the window through Redis drew one 429 in 51 calls without it)
        RateProfile("pipedrive-search", (Budget(10, 2.2),)),
        RateProfile("totalexpert", (Budget(1000, 60),), EDGE),
        RateProfile("unlimited", ()),
    )
}


def profile(name: str) -> RateProfile:
    """The profile called ``name``; ``KeyError`` names the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise KeyError(f"unknown rate profile {name!r}; known: {known}") from None
