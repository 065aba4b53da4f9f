"""Connector errors, ordered by what the caller does about them.

The worker acts on the class, never on a status code:

| class          | action                                                       |
|----------------|--------------------------------------------------------------|
| AuthError      | give up: mark the integration ``needs_auth``, pause its jobs  |
| ConfigError    | give up: the integration is misconfigured, a human must act   |
| InvalidRecord  | skip the record, keep its error; no retry                     |
| NotFound       | drop the Link and recreate the remote record                  |
| RateLimited    | wait ``retry_after`` seconds; does not count as an attempt    |
| Transient      | retry with backoff                                            |

``classify`` turns any HTTP response into one of these (or ``None`` for success) from a
status table, after giving provider hooks the first word: Salesforce reports its daily
quota as a 403 and an expired session in the body, HubSpot has a 477, and so on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any

import httpx

__all__ = [
    "Action",
    "AuthError",
    "ClassifierHook",
    "ConfigError",
    "ConnectorError",
    "InvalidRecord",
    "NotFound",
    "RateLimited",
    "Transient",
    "classify",
    "error_field",
    "error_message",
]

# Provider messages are copied into errors; cap them so a huge HTML page never lands in a log.
_MAX_MESSAGE = 300


class Action(StrEnum):
    """What the caller does about an error class."""

    GIVE_UP = "give_up"
    SKIP_RECORD = "skip_record"
    RELINK = "relink"
    WAIT = "wait"
    RETRY = "retry"


class ConnectorError(Exception):
    """Base of every error a connector raises; carries the HTTP status and provider code."""

    action: Action = Action.GIVE_UP
    # the provider's answer behind the error, when there was one (the pass-through
    # proxy shows it to its caller); set by the HTTP layer
    response: httpx.Response | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field = field  # the remote property the provider named, when it named one

    @property
    def kind(self) -> str:
        """Stable class name stored with a failed job (``SyncJob.last_error_class``)."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"{self.kind}({self.message!r}, status={self.status!r}, code={self.code!r})"


# --- give up -------------------------------------------------------------------------------


class AuthError(ConnectorError):
    """Credentials rejected or revoked; the integration needs a new authorization."""


class ConfigError(ConnectorError):
    """The integration is set up wrongly (bad URL, missing scope, unknown object)."""


# --- skip the record -----------------------------------------------------------------------


class InvalidRecord(ConnectorError):
    """The provider refused this record's content; retrying cannot help."""

    action = Action.SKIP_RECORD


# --- relink --------------------------------------------------------------------------------


class NotFound(ConnectorError):
    """The remote record is gone; the Link is stale."""

    action = Action.RELINK


# --- wait, then retry ----------------------------------------------------------------------


class RateLimited(ConnectorError):
    """The provider's budget is spent; wait ``retry_after`` seconds (not an attempt)."""

    action = Action.WAIT

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        status: int | None = None,
        code: str | None = None,
    ):
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class Transient(ConnectorError):
    """A failure that may pass: 5xx, timeout, connection reset."""

    action = Action.RETRY


ClassifierHook = Callable[[httpx.Response], ConnectorError | None]
"""Provider-specific classification, consulted before the status table."""

# Seconds to wait on a 429 that names no wait at all.
DEFAULT_RETRY_AFTER = 10.0

_BY_STATUS: Mapping[int, type[ConnectorError]] = {
    400: InvalidRecord,
    401: AuthError,
    402: ConfigError,
    403: ConfigError,
    404: NotFound,
    405: ConfigError,
    406: ConfigError,
    408: Transient,
    409: InvalidRecord,
    410: NotFound,
    413: InvalidRecord,
    414: ConfigError,
    415: ConfigError,
    422: InvalidRecord,
    423: Transient,
    425: Transient,
    429: RateLimited,
}


def _class_for(status: int) -> type[ConnectorError] | None:
    if status < 300 or status == 304:
        return None
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return Transient
    if status >= 400:
        return InvalidRecord
    # 3xx that httpx did not follow (redirects are refused across hosts, see ssrf guard)
    return ConfigError


def error_message(response: httpx.Response) -> str:
    """The provider's own error text, whatever its body shape, cut to a safe length."""
    text = ""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        body = body[0]  # Salesforce: [{"message", "errorCode"}]
    if isinstance(body, Mapping):
        for key in ("message", "error_description", "error", "title", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                text = value
                break
    if not text:
        reason = response.reason_phrase or "error"
        text = f"HTTP {response.status_code} {reason}"
    return text[:_MAX_MESSAGE]


def _error_body(response: httpx.Response) -> Mapping[str, Any] | None:
    """The error object of a JSON body (Salesforce's is the first of a list)."""
    try:
        body: Any = response.json()
    except ValueError:
        return None
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        body = body[0]
    return body if isinstance(body, Mapping) else None


def error_code(response: httpx.Response) -> str | None:
    """The provider's machine-readable error code, when the body has one."""
    body = _error_body(response)
    if body is None:
        return None
    for key in ("errorCode", "category", "errorType", "error", "code"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def error_field(response: httpx.Response) -> str | None:
    """The field a provider's error body names: HubSpot ``errors[].in`` or
    ``context.propertyName``, Salesforce ``fields``, a generic ``field``."""
    body = _error_body(response)
    if body is None:
        return None
    for item in body.get("errors") or ():
        if isinstance(item, Mapping) and isinstance(item.get("in"), str):
            return str(item["in"])
    context = body.get("context")
    if isinstance(context, Mapping):
        names = context.get("propertyName") or context.get("properties")
        if isinstance(names, list) and names:
            return str(names[0])
    fields = body.get("fields")
    if isinstance(fields, list) and fields:
        return str(fields[0])
    value = body.get("field")
    return value if isinstance(value, str) else None


def classify(
    response: httpx.Response,
    hooks: Iterable[ClassifierHook] = (),
    *,
    retry_after: float | None = None,
) -> ConnectorError | None:
    """The error a response means, or ``None`` when it is a success.

    ``retry_after`` is the wait already read from the headers (see ``http.retry``); a
    429 without one waits ``DEFAULT_RETRY_AFTER``.
    """
    for hook in hooks:
        found = hook(response)
        if found is not None:
            return found
    cls = _class_for(response.status_code)
    if cls is None:
        return None
    message = error_message(response)
    code = error_code(response)
    if cls is RateLimited:
        wait = DEFAULT_RETRY_AFTER if retry_after is None else retry_after
        return RateLimited(message, retry_after=wait, status=response.status_code, code=code)
    return cls(message, status=response.status_code, code=code, field=error_field(response))
