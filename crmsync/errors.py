"""crmsync's exceptions, by what they mean to the caller.

Every refusal a service makes is a ``CrmsyncError`` of one of these kinds; a feature
subclasses the kind that fits (``RecordNotFound`` is a ``NotFound``, ``FileTooLarge`` a
``TooLarge``) and never names an HTTP status: ``http_status`` below gives each kind its
one status, for the API (``crmsync.api.errors``, with the one error shape) and the web
app's pages alike; the CLI prints the message. ``code`` is the machine-readable error
code of the answer.
"""

from __future__ import annotations

from typing import Any


class CrmsyncError(Exception):
    """A request crmsync refuses; ``message`` says what to fix, ``details`` where."""

    code = "bad_request"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(CrmsyncError):
    """No such thing in this workspace (another workspace's ids included)."""

    code = "not_found"


class Invalid(CrmsyncError):
    """The input cannot be used as it is."""

    code = "validation_error"


class TooLarge(Invalid):
    """Over a size, row or column limit."""

    code = "payload_too_large"


class Conflict(CrmsyncError):
    """The state of things does not allow it now (a name taken, a job already finished)."""

    code = "conflict"


class NotAllowed(CrmsyncError):
    """The caller may not do this."""

    code = "forbidden"


class Unavailable(CrmsyncError):
    """Something crmsync depends on cannot serve it now (a key, a CRM, a broker)."""

    code = "unavailable"


# The nearest kind in a class's MRO decides (a FileTooLarge is a TooLarge before it is an
# Invalid).
_HTTP_STATUS: dict[type[CrmsyncError], int] = {
    NotFound: 404,
    TooLarge: 413,
    Invalid: 422,
    Conflict: 409,
    NotAllowed: 403,
    Unavailable: 503,
    CrmsyncError: 400,
}


def http_status(exc: CrmsyncError) -> int:
    """The HTTP status an answer refusing with ``exc`` carries."""
    return next(_HTTP_STATUS[c] for c in type(exc).__mro__ if c in _HTTP_STATUS)
