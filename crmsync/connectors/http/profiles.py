"""Rate profiles by name: each provider's spec declares its own, from its published
limits (``ProviderSpec.rate_profiles``).

Integrations pick one by name (``rate_profile`` in their config) and may override it.
"""

from __future__ import annotations

from collections.abc import Mapping

from crmsync.connectors.http.ratelimit import RateProfile
from crmsync.connectors.providers import specs

__all__ = ["DAY", "EDGE", "UNLIMITED", "profile", "profiles"]

DAY = 86_400.0

# The limiter counts a call when it sends it; providers count it when it arrives, a
# connect or a slow request later. Spending the whole window sends its last call just
# as the provider's window (which began at our first call's arrival) is still open, and
# that call comes back 429 with a full window's wait. Spending 98 % leaves that margin
# (bench/connectors.py: HubSpot free at 1.0 saw one 429 per run, at 0.98 none).
EDGE = 0.98

UNLIMITED = RateProfile("unlimited", ())


def profiles() -> Mapping[str, RateProfile]:
    """Every rate profile by name: each provider's (``ProviderSpec.rate_profiles``) and
    ``unlimited``."""
    found = {p.name: p for spec in specs().values() for p in spec.rate_profiles}
    return {**found, UNLIMITED.name: UNLIMITED}


def profile(name: str) -> RateProfile:
    """The profile called ``name``; ``KeyError`` names the known ones."""
    try:
        return profiles()[name]
    except KeyError:
        known = ", ".join(sorted(profiles()))
        raise KeyError(f"unknown rate profile {name!r}; known: {known}") from None
