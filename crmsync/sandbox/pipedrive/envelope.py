"""Pipedrive's response envelope: success bodies, error bodies and the error type."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

ERROR_INFO = "Please check developers.pipedrive.com for more information about Pipedrive API."


class PipedriveError(Exception):
    """An answer with `success: false`; raised anywhere in a route."""

    def __init__(self, status: int, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body  # a whole body of another shape (e.g. webhook validation)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def ok(data: Any, status: int = 200, additional_data: Any = None, related: Any = None) -> Response:
    body: dict[str, Any] = {"success": True, "data": data}
    if additional_data is not None:
        body["additional_data"] = additional_data
    if related is not None:
        body["related_objects"] = related
    return json_response(body, status)


def error_body(status: int, message: str) -> dict[str, Any]:
    if status == 401:
        return {"success": False, "error": message, "errorCode": 401, "error_info": ERROR_INFO}
    return {
        "success": False,
        "error": message,
        "error_info": ERROR_INFO,
        "data": None,
        "additional_data": None,
    }


def error(exc: PipedriveError) -> Response:
    return json_response(exc.body or error_body(exc.status, exc.message), exc.status)
