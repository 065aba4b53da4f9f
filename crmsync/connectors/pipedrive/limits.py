"""The HTTP clients of one integration: general and search budgets, honouring headers.

Pipedrive reports its burst window on every answer (``x-ratelimit-remaining``,
``x-ratelimit-reset`` in seconds; search answers report the search window) and the
daily token budget (``x-daily-ratelimit-token-remaining``, reset at midnight UTC). When
a window or the budget is spent, the limiter holds every caller of the integration until
it resets, so the next call does not earn a 429 (and, after repeated 429s, Pipedrive's
edge block).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import httpx

from crmsync.connectors.errors import ClassifierHook
from crmsync.connectors.http import ConnectorHttp, RateLimiter, build_http
from crmsync.connectors.http.profiles import profile
from crmsync.connectors.registry import ConnectorContext

__all__ = ["build_client", "header_watch", "until_midnight"]


def _spent(response: httpx.Response, name: str) -> bool:
    raw = response.headers.get(name)
    try:
        return raw is not None and float(raw) <= 0
    except ValueError:
        return False


def until_midnight(now: float) -> float:
    """Seconds from ``now`` to the next midnight UTC (when the daily budget resets)."""
    moment = datetime.fromtimestamp(now, tz=UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - moment).total_seconds()


def header_watch(
    general: RateLimiter,
    search: RateLimiter | None = None,
    clock: Callable[[], float] = time.time,
) -> Callable[[httpx.Response], None]:
    """A response hook that holds a limiter while the provider says its window is spent."""

    def watch(response: httpx.Response) -> None:
        if response.status_code == 429:
            return  # the client waits a 429's Retry-After itself
        if _spent(response, "x-daily-ratelimit-token-remaining"):
            general.penalize(until_midnight(clock()))
        if _spent(response, "x-ratelimit-remaining"):
            is_search = response.request.url.path.endswith("/search")
            limiter = search if is_search and search is not None else general
            try:
                limiter.penalize(max(float(response.headers.get("x-ratelimit-reset", 2)), 0.0))
            except ValueError:
                return

    return watch


def build_client(
    context: ConnectorContext,
    auth: httpx.Auth,
    hooks: Sequence[ClassifierHook],
    base_url: str | None = None,
) -> tuple[ConnectorHttp, ConnectorHttp]:
    """The general client and the search client, sharing one connection pool."""
    oauth = not context.credentials.get("api_token")
    default = "pipedrive-oauth-growth" if oauth else "pipedrive-api-token-growth"
    key = str(context.integration_id)

    def limiter(name: str, suffix: str = "") -> RateLimiter:
        return RateLimiter(
            profile(name),
            key + suffix,
            context.windows,
            clock=context.clock,
            sleep=context.sleep,
            max_wait=context.http.max_rate_wait,
        )

    general = limiter(context.rate_profile or default)
    http = build_http(
        base_url=base_url or context.base_url,
        provider="pipedrive",
        auth=auth,
        integration_id=context.integration_id,
        limiter=general,
        hooks=hooks,
        settings=context.http,
        transport=context.transport,
        verify=context.verify,
        sleep=context.sleep,
    )
    search_limiter = limiter(
        "unlimited" if context.rate_profile == "unlimited" else "pipedrive-search", ":search"
    )
    http.client.event_hooks["response"].append(header_watch(general, search_limiter, context.clock))
    search = ConnectorHttp(
        http.client,
        limiter=search_limiter,
        hooks=hooks,
        settings=context.http,
        sleep=context.sleep,
    )
    return http, search
