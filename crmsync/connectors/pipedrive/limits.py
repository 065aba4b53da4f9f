"""The HTTP clients of one integration: general and search budgets, honouring headers.

Pipedrive reports its burst window on every answer (``x-ratelimit-remaining``,
``x-ratelimit-reset`` in seconds). When a window is spent the limiter holds every caller
of the integration until it resets, so the next call does not earn a 429 (and, after
repeated 429s, Pipedrive's edge block).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx

from crmsync.connectors.errors import ClassifierHook
from crmsync.connectors.http import ConnectorHttp, RateLimiter, build_http
from crmsync.connectors.http.profiles import profile
from crmsync.connectors.registry import ConnectorContext

__all__ = ["build_client", "header_watch"]


def header_watch(limiter: RateLimiter) -> Callable[[httpx.Response], None]:
    """A response hook that holds ``limiter`` while the provider's window is spent."""

    def watch(response: httpx.Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        if remaining is None or reset is None or response.status_code == 429:
            return  # a 429 is waited by the client itself
        try:
            if int(float(remaining)) <= 0:
                limiter.penalize(max(float(reset), 0.0))
        except ValueError:
            return

    return watch


def build_client(
    context: ConnectorContext, auth: httpx.Auth, hooks: Sequence[ClassifierHook]
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
        base_url=context.base_url,
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
    http.client.event_hooks["response"].append(header_watch(general))
    search = ConnectorHttp(
        http.client,
        limiter=search_limiter,
        hooks=hooks,
        settings=context.http,
        sleep=context.sleep,
    )
    return http, search
