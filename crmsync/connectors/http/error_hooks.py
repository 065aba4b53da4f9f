"""What every provider's error hooks share: reading an error body, and RFC 6749's errors.

An error hook looks at one provider's error answers and returns an error, or ``None`` to
let ``classify``'s status table decide. Each provider keeps its own hooks in its package
(``connectors/<provider>/errors.py``) and names them in its spec
(``ProviderSpec.error_hooks``); its connector passes them to its HTTP client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from crmsync.connectors.errors import AuthError, ConnectorError, error_message

__all__ = ["DAILY_QUOTA_WAIT", "code_and_message", "first_item", "oauth_errors"]

# Waits for quotas that reset on a daily clock we cannot see (the account's time zone or
# a rolling 24 h): the worker reschedules the job rather than sleeping in the call.
DAILY_QUOTA_WAIT = 3600.0


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def first_item(response: httpx.Response) -> Mapping[str, Any]:
    """The error object of the answer: the body, or the first of a list of them."""
    body = _body(response)
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        return body[0]
    if isinstance(body, Mapping):
        return body
    return {}


def code_and_message(response: httpx.Response, keys: tuple[str, ...]) -> tuple[str | None, str]:
    """The first of ``keys`` the error object holds as a text, and the error's message."""
    first = first_item(response)
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
    code = first_item(response).get("error")
    if isinstance(code, str) and code in _OAUTH_AUTH_ERRORS:
        return AuthError(error_message(response), status=response.status_code, code=code)
    return None
