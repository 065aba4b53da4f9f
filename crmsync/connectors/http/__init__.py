"""Shared HTTP layer for connectors: auth flows, rate limits, retries, classification, logs.

Sync ``httpx.Client`` throughout: the worker runs jobs in threads, and a blocking client
keeps the rate limiter, the OAuth single-flight lock and the retry loop plain code.
"""

from crmsync.connectors.http.auth import ApiKeyAuth, BearerAuth
from crmsync.connectors.http.client import ConnectorHttp, HttpSettings, build_http
from crmsync.connectors.http.oauth import OAuth2Auth, TokenSet
from crmsync.connectors.http.ratelimit import Budget, RateLimiter, RateProfile
from crmsync.connectors.http.retry import RetryPolicy

__all__ = [
    "ApiKeyAuth",
    "BearerAuth",
    "Budget",
    "ConnectorHttp",
    "HttpSettings",
    "OAuth2Auth",
    "RateLimiter",
    "RateProfile",
    "RetryPolicy",
    "TokenSet",
    "build_http",
]
