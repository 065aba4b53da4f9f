"""Provider hooks for ``classify``: the cases a status code alone gets wrong.

Each hook looks at one provider's error bodies and returns an error, or ``None`` to let
the status table decide. Each provider's spec names its hooks (``ProviderSpec.error_hooks``),
which its connector passes to its HTTP client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from crmsync.connectors.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    InvalidRecord,
    RateLimited,
    Transient,
    error_message,
)

__all__ = [
    "hubspot_errors",
    "hubspot_token_refusals",
    "oauth_errors",
    "pipedrive_errors",
    "salesforce_errors",
]

# Waits for quotas that reset on a daily clock we cannot see (the account's time zone or
# a rolling 24 h): the worker reschedules the job rather than sleeping in the call.
DAILY_QUOTA_WAIT = 3600.0
SALESFORCE_CONCURRENCY_WAIT = 30.0
HUBSPOT_SECONDLY_WAIT = 10.0
CLOUDFLARE_BLOCK_WAIT = 60.0


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _first(body: Any) -> Mapping[str, Any]:
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        return body[0]
    if isinstance(body, Mapping):
        return body
    return {}


def _code_and_message(response: httpx.Response, keys: tuple[str, ...]) -> tuple[str | None, str]:
    first = _first(_body(response))
    code = next((first[k] for k in keys if isinstance(first.get(k), str)), None)
    return code, error_message(response)


_OAUTH_AUTH_ERRORS = {
    "invalid_grant",
    "invalid_client",
    "unauthorized_client",
    "invalid_token",
    "insufficient_scope",
}


def oauth_errors(response: httpx.Response) -> ConnectorError | None:
    """RFC 6749 token-endpoint errors: a refused grant means re-authorize, not retry."""
    if response.status_code < 400:
        return None
    code = _first(_body(response)).get("error")
    if isinstance(code, str) and code in _OAUTH_AUTH_ERRORS:
        return AuthError(error_message(response), status=response.status_code, code=code)
    return None


_SALESFORCE_CONFIG_CODES = {"INVALID_TYPE", "MALFORMED_QUERY", "INVALID_FIELD", "API_DISABLED"}


def salesforce_errors(response: httpx.Response) -> ConnectorError | None:
    """Salesforce: quota as 403 ``REQUEST_LIMIT_EXCEEDED``, sessions in the body, 300."""
    status = response.status_code
    if status < 300:
        return None
    code, message = _code_and_message(response, ("errorCode", "statusCode"))
    if code == "REQUEST_LIMIT_EXCEEDED":
        daily = "TotalRequests" in message
        wait = DAILY_QUOTA_WAIT if daily else SALESFORCE_CONCURRENCY_WAIT
        return RateLimited(message, retry_after=wait, status=status, code=code)
    if code == "INVALID_SESSION_ID":
        return AuthError(message, status=status, code=code)
    if status == 300:
        # an external id matched several records: the record's key is ambiguous
        return InvalidRecord(message, status=status, code="MULTIPLE_CHOICES")
    if code in _SALESFORCE_CONFIG_CODES:
        return ConfigError(message, status=status, code=code)
    return oauth_errors(response)


def hubspot_errors(response: httpx.Response) -> ConnectorError | None:
    """HubSpot: 477 migration, missing scopes, daily vs ten-secondly 429."""
    status = response.status_code
    if status < 400:
        return None
    category, message = _code_and_message(response, ("category", "errorType"))
    if status == 477:
        return Transient(message, status=status, code="MIGRATION_IN_PROGRESS")
    if status == 403 and category == "MISSING_SCOPES":
        return AuthError(message, status=status, code=category)
    if status == 429 and "retry-after" not in response.headers:
        daily = _first(_body(response)).get("policyName") == "DAILY"
        wait = DAILY_QUOTA_WAIT if daily else HUBSPOT_SECONDLY_WAIT
        return RateLimited(message, retry_after=wait, status=status, code="RATE_LIMIT")
    return oauth_errors(response)


def pipedrive_errors(response: httpx.Response) -> ConnectorError | None:
    """Pipedrive: persisting after a 429 earns a Cloudflare 403 HTML page."""
    status = response.status_code
    content_type = response.headers.get("content-type", "")
    if status == 403 and "html" in content_type:
        return RateLimited(
            "blocked by the provider's edge after rate limiting",
            retry_after=CLOUDFLARE_BLOCK_WAIT,
            status=status,
            code="EDGE_BLOCK",
        )
    return oauth_errors(response)


# HubSpot's token endpoint names its refusals in "status", not RFC 6749's "error"
_HUBSPOT_REFUSALS = frozenset(
    {
        "BAD_REFRESH_TOKEN",
        "BAD_AUTH_CODE",
        "BAD_CLIENT_ID",
        "BAD_CLIENT_SECRET",
        "BAD_REDIRECT_URI",
        "BAD_GRANT_TYPE",
    }
)


def hubspot_token_refusals(response: httpx.Response) -> ConnectorError | None:
    """A refused grant from HubSpot's token endpoint is an ``AuthError`` (re-authorize)."""
    if response.status_code < 400:
        return None
    status = _first(_body(response)).get("status")
    if status in _HUBSPOT_REFUSALS:
        return AuthError(error_message(response), status=response.status_code, code=status)
    return None
