"""Salesforce's error answers: a JSON array of ``{message, errorCode, fields}``.

Handlers and the store raise `ApiError`; the endpoint wrapper turns it into the
array body with its HTTP status. Inside sObject Collections results the same error
is reported per record with ``statusCode`` instead of ``errorCode``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.responses import Response

from crmsync.sandbox.base import json_response

NOT_FOUND_MESSAGE = "The requested resource does not exist"
SESSION_MESSAGE = "Session expired or invalid"


class ApiError(Exception):
    """One Salesforce error with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, fields: Sequence[str] = ()) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields)

    def body(self) -> list[dict[str, Any]]:
        """The REST error array."""
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields:
            item["fields"] = self.fields
        return [item]

    def save_error(self) -> dict[str, Any]:
        """The per-record error of a collections or composite result."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}

    def response(self, version: str = "59.0") -> Response:
        """The HTTP answer (`version` is the API version of the request's path)."""
        return json_response(self.body(), status=self.status)


class MultipleMatches(ApiError):
    """An external id matched several records: HTTP 300 listing their URLs."""

    def __init__(self, sobject: str, record_ids: list[str]) -> None:
        super().__init__(300, "MULTIPLE_CHOICES", "More than one record found")
        self.sobject = sobject
        self.record_ids = record_ids

    def response(self, version: str = "59.0") -> Response:
        base = f"/services/data/v{version}/sobjects/{self.sobject}/"
        return json_response([base + i for i in self.record_ids], status=300)


def not_found(message: str = NOT_FOUND_MESSAGE) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def invalid_session() -> ApiError:
    return ApiError(401, "INVALID_SESSION_ID", SESSION_MESSAGE)


def malformed_query(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_QUERY", message)


def invalid_field(message: str, fields: Sequence[str] = ()) -> ApiError:
    return ApiError(400, "INVALID_FIELD", message, fields)


def invalid_type(object_name: str) -> ApiError:
    return ApiError(
        400,
        "INVALID_TYPE",
        f"sObject type '{object_name}' is not supported. If you are attempting to use a "
        "custom object, be sure to append the '__c' after the entity name. Please "
        "reference your WSDL or the describe call for the appropriate names.",
    )


def no_such_column(field: str, object_name: str) -> ApiError:
    return invalid_field(f"No such column '{field}' on sobject of type {object_name}", [field])


def required_missing(fields: Sequence[str]) -> ApiError:
    names = ", ".join(fields)
    return ApiError(
        400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{names}]", fields
    )


def not_writable(fields: Sequence[str]) -> ApiError:
    names = ", ".join(fields)
    return ApiError(
        400,
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {names}. Please check the security settings of "
        "this field and verify that it is read/write for your profile or permission set.",
        fields,
    )


def duplicate_value(field: str, record_id: str) -> ApiError:
    return ApiError(
        400,
        "DUPLICATE_VALUE",
        f"duplicate value found: {field} duplicates value on record with id: {record_id}",
        [],
    )


def string_too_long(label: str, name: str, value: str, length: int) -> ApiError:
    return ApiError(
        400,
        "STRING_TOO_LONG",
        f"{label}: data value too large: {value[:60]} (max length={length})",
        [name],
    )


def invalid_email(label: str, name: str, value: str) -> ApiError:
    return ApiError(
        400, "INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {value}", [name]
    )


def malformed_id(label: str, name: str, value: str) -> ApiError:
    return ApiError(400, "MALFORMED_ID", f"{label}: id value of incorrect type: {value}", [name])


def invalid_reference(name: str) -> ApiError:
    return ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name])


def entity_deleted() -> ApiError:
    return ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")


def json_parser(message: str) -> ApiError:
    return ApiError(400, "JSON_PARSER_ERROR", message)


def method_not_allowed(method: str, allowed: Sequence[str]) -> ApiError:
    return ApiError(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}",
    )


def request_limit_exceeded() -> ApiError:
    return ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


def concurrent_limit_exceeded() -> ApiError:
    """Too many long-running requests at once: Salesforce's passing throttle."""
    return ApiError(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")


def server_error(status: int) -> ApiError:
    if status == 503:
        return ApiError(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable.")
    return ApiError(
        status,
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact "
        "support: 1306413797-53141 (-1296306424)",
    )
