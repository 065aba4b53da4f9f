"""Salesforce's error answers that a status code alone gets wrong (``SPEC.error_hooks``)."""

from __future__ import annotations

import httpx

from crmsync.connectors.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    InvalidRecord,
    RateLimited,
)
from crmsync.connectors.http.error_hooks import DAILY_QUOTA_WAIT, code_and_message, oauth_errors

__all__ = ["CONCURRENCY_WAIT", "salesforce_errors"]

CONCURRENCY_WAIT = 30.0  # the concurrent-request limit frees up within seconds

_CONFIG_CODES = {"INVALID_TYPE", "MALFORMED_QUERY", "INVALID_FIELD", "API_DISABLED"}


def salesforce_errors(response: httpx.Response) -> ConnectorError | None:
    """Salesforce: quota as 403 ``REQUEST_LIMIT_EXCEEDED``, sessions in the body, 300."""
    status = response.status_code
    if status < 300:
        return None
    code, message = code_and_message(response, ("errorCode", "statusCode"))
    if code == "REQUEST_LIMIT_EXCEEDED":
        daily = "TotalRequests" in message
        wait = DAILY_QUOTA_WAIT if daily else CONCURRENCY_WAIT
        return RateLimited(message, retry_after=wait, status=status, code=code)
    if code == "INVALID_SESSION_ID":
        return AuthError(message, status=status, code=code)
    if status == 300:
        # an external id matched several records: the record's key is ambiguous
        return InvalidRecord(message, status=status, code="MULTIPLE_CHOICES")
    if code in _CONFIG_CODES:
        return ConfigError(message, status=status, code=code)
    return oauth_errors(response)
