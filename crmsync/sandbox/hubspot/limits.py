"""HubSpot rate-limit tiers, headers and the 429 body.

Private-app tiers count a 10-second burst window and a daily window; public OAuth
apps get 110 per 10 s and no daily cap. CRM search has its own per-second limit and
its answers carry no rate-limit headers. The Professional daily cap is published as
both 625,000 and 650,000, so both tiers exist; the search limit is 5/s (``search4``
keeps the older 4/s).
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from crmsync.sandbox.base import json_response
from crmsync.sandbox.ratelimit import RateDecision, RateProfile, RateWindow, profiles

TEN_SECONDLY = "TEN_SECONDLY_ROLLING"
DAILY = "DAILY"
SECONDLY = "SECONDLY"
SEARCH = "search"
DAY = 86_400.0


def _tier(name: str, burst: int, daily: int | None, search: int = 5) -> RateProfile:
    windows = [RateWindow(TEN_SECONDLY, burst, 10.0)]
    if daily is not None:
        windows.append(RateWindow(DAILY, daily, DAY))
    windows.append(RateWindow(SECONDLY, search, 1.0, bucket=SEARCH))
    return RateProfile(name, tuple(windows), f"{burst}/10s, {daily or 'no'} per day")


RATE_PROFILES = profiles(
    _tier("free", 100, 250_000),
    _tier("starter", 100, 250_000),
    _tier("professional", 190, 625_000),
    _tier("professional-650k", 190, 650_000),
    _tier("enterprise", 190, 1_000_000),
    _tier("enterprise-limit-increase", 250, 2_000_000),
    _tier("oauth", 110, None),
    _tier("search4", 190, 625_000, search=4),
)
DEFAULT_PROFILE = "professional"

MESSAGES = {
    DAILY: "You have reached your daily limit.",
    TEN_SECONDLY: "You have reached your secondly limit.",
    SECONDLY: "You have reached your secondly limit.",
}


def rate_headers(decision: RateDecision) -> dict[str, str]:
    """``X-HubSpot-RateLimit-*`` headers (none for search answers)."""
    headers: dict[str, str] = {}
    burst = decision.usage(TEN_SECONDLY)
    if burst is not None:
        headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(int(burst.window.seconds * 1000))
        headers["X-HubSpot-RateLimit-Max"] = str(burst.window.limit)
        headers["X-HubSpot-RateLimit-Remaining"] = str(burst.remaining)
    daily = decision.usage(DAILY)
    if daily is not None:
        headers["X-HubSpot-RateLimit-Daily"] = str(daily.window.limit)
        headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(daily.remaining)
    return headers


def throttle_body(policy: str) -> dict[str, Any]:
    """The documented 429 body for `policy`."""
    return {
        "status": "error",
        "message": MESSAGES.get(policy, MESSAGES[SECONDLY]),
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "requestId": uuid.uuid4().hex,
    }


def throttled(decision: RateDecision, retry_after: bool) -> Response:
    """429 with HubSpot's body; Retry-After only when configured (undocumented)."""
    policy = decision.violated.window.policy if decision.violated else TEN_SECONDLY
    headers = rate_headers(decision)
    if retry_after:
        headers["Retry-After"] = str(decision.retry_after)
    return json_response(throttle_body(policy), status=429, headers=headers)
