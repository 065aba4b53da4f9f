"""HubSpot's error bodies: ``{status, message, correlationId, category, ...}``."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from crmsync.sandbox.base import SandboxError, json_response


def error_body(
    category: str,
    message: str,
    *,
    sub_category: str | None = None,
    context: dict[str, list[str]] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The `Error` object HubSpot answers with."""
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    if sub_category:
        body["subCategory"] = sub_category
    if context:
        body["context"] = context
    if errors:
        body["errors"] = errors
    return body


def error_response(status: int, category: str, message: str, **kw: Any) -> Response:
    """An error answer with HubSpot's body."""
    return json_response(error_body(category, message, **kw), status=status)


def validation(message: str, **kw: Any) -> SandboxError:
    """400 VALIDATION_ERROR, raised from a handler."""
    return SandboxError(error_response(400, "VALIDATION_ERROR", message, **kw))


def not_found(object_type: str, record_id: str) -> SandboxError:
    """404 OBJECT_NOT_FOUND for one record."""
    return SandboxError(
        error_response(404, "OBJECT_NOT_FOUND", f"resource not found: {object_type} {record_id}")
    )


def conflict(message: str) -> SandboxError:
    """409 CONFLICT (a unique property value already taken)."""
    return SandboxError(error_response(409, "CONFLICT", message))


def standard_error(
    status: str, category: str, message: str, **context: list[str]
) -> dict[str, Any]:
    """A `StandardError` inside a 207 batch answer."""
    return {
        "status": status,
        "category": category,
        "message": message,
        "context": context,
        "errors": [],
        "links": {},
    }


def unauthorized(expired: bool = False) -> Response:
    """401 with INVALID_AUTHENTICATION or EXPIRED_AUTHENTICATION."""
    if expired:
        return error_response(
            401,
            "EXPIRED_AUTHENTICATION",
            "The OAuth token used to make this call expired",
        )
    return error_response(
        401,
        "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication "
        "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    )
