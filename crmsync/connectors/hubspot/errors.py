"""HubSpot's error answers that a status code alone gets wrong: the API's
(``SPEC.error_hooks``) and the token endpoint's (``OAUTH``'s hooks)."""

from __future__ import annotations

import httpx

from crmsync.connectors.errors import (
    AuthError,
    ConnectorError,
    RateLimited,
    Transient,
    error_message,
)
from crmsync.connectors.http.error_hooks import (
    DAILY_QUOTA_WAIT,
    code_and_message,
    first_item,
    oauth_errors,
)

__all__ = ["SECONDLY_WAIT", "hubspot_errors", "hubspot_token_refusals"]

SECONDLY_WAIT = 10.0  # the ten-secondly policy's window

# HubSpot's token endpoint names its refusals in "status", not RFC 6749's "error"
_REFUSALS = frozenset(
    {
        "BAD_REFRESH_TOKEN",
        "BAD_AUTH_CODE",
        "BAD_CLIENT_ID",
        "BAD_CLIENT_SECRET",
        "BAD_REDIRECT_URI",
        "BAD_GRANT_TYPE",
    }
)


def hubspot_errors(response: httpx.Response) -> ConnectorError | None:
    """HubSpot: 477 migration, missing scopes, daily vs ten-secondly 429."""
    status = response.status_code
    if status < 400:
        return None
    category, message = code_and_message(response, ("category", "errorType"))
    if status == 477:
        return Transient(message, status=status, code="MIGRATION_IN_PROGRESS")
    if status == 403 and category == "MISSING_SCOPES":
        return AuthError(message, status=status, code=category)
    if status == 429 and "retry-after" not in response.headers:
        daily = first_item(response).get("policyName") == "DAILY"
        wait = DAILY_QUOTA_WAIT if daily else SECONDLY_WAIT
        return RateLimited(message, retry_after=wait, status=status, code="RATE_LIMIT")
    return oauth_errors(response)


def hubspot_token_refusals(response: httpx.Response) -> ConnectorError | None:
    """A refused grant from HubSpot's token endpoint is an ``AuthError`` (re-authorize)."""
    if response.status_code < 400:
        return None
    status = first_item(response).get("status")
    if status in _REFUSALS:
        return AuthError(error_message(response), status=response.status_code, code=status)
    return None
