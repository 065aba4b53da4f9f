"""API allocation: the daily request allowance per edition, the ``limits`` resource
and the ``Sforce-Limit-Info`` header.

Allocations follow Salesforce's published rule (100,000 per org plus a per-licence
amount; Developer Edition 15,000). Profiles assume 10 full licences; use
`daily_profile` for any other allowance. The real window is a rolling 24 hours; the
sandbox counts in a 24-hour window that starts with the first call.
"""

from __future__ import annotations

from typing import Any

from crmsync.sandbox.ratelimit import RateProfile, RateWindow, profiles

DAILY = "DailyApiRequests"
DAY_SECONDS = 86_400.0
LICENCES = 10


def daily_profile(name: str, allocation: int, description: str = "") -> RateProfile:
    """A profile allowing `allocation` API requests per 24 hours."""
    return RateProfile(name, (RateWindow(DAILY, allocation, DAY_SECONDS),), description)


def edition_profiles() -> dict[str, RateProfile]:
    """Profiles named after Salesforce editions (plus ``off``)."""
    return profiles(
        daily_profile("developer", 15_000, "Developer Edition"),
        daily_profile(
            "professional", 100_000 + 1_000 * LICENCES, "Professional (API add-on), 10 licences"
        ),
        daily_profile("enterprise", 100_000 + 1_000 * LICENCES, "Enterprise, 10 licences"),
        daily_profile("unlimited", 100_000 + 5_000 * LICENCES, "Unlimited, 10 licences"),
        daily_profile("performance", 100_000 + 5_000 * LICENCES, "Performance, 10 licences"),
    )


def limit_info(used: int, allocation: int) -> str:
    """The ``Sforce-Limit-Info`` header value."""
    return f"api-usage={used}/{allocation}"


def limits_body(used: int, allocation: int) -> dict[str, Any]:
    """The ``limits`` resource: daily API requests plus the usual other allowances."""

    def pair(maximum: int, remaining: int | None = None) -> dict[str, int]:
        return {"Max": maximum, "Remaining": maximum if remaining is None else remaining}

    return {
        "ConcurrentAsyncGetReportInstances": pair(200),
        "ConcurrentSyncReportRuns": pair(20),
        "DailyApiRequests": pair(allocation, max(0, allocation - used)),
        "DailyAsyncApexExecutions": pair(250_000),
        "DailyBulkApiBatches": pair(15_000),
        "DailyBulkV2QueryJobs": pair(10_000),
        "DailyStreamingApiEvents": pair(1_000_000),
        "DataStorageMB": pair(1_024),
        "FileStorageMB": pair(10_240),
        "HourlyODataCallout": pair(20_000),
        "SingleEmail": pair(5_000),
    }
