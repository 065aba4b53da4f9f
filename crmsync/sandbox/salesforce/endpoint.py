"""Route plumbing shared by the Salesforce handlers.

`route` registers one path (with and without the trailing slash simple-salesforce
often sends) whose handlers are chosen by method; other methods answer Salesforce's
405. Every answer, errors included, carries ``Sforce-Limit-Info``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.salesforce import errors

Handler = Callable[[Request], Awaitable[Response]]
LimitInfo = Callable[[], str]
_ALL = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def route(path: str, limit_info: LimitInfo, **handlers: Handler) -> list[Route]:
    """Routes for `path` dispatching on method (``GET=...``, ``PATCH=...``)."""
    allowed = sorted(handlers)

    async def dispatch(request: Request) -> Response:
        handler = handlers.get(request.method)
        if handler is None and request.method == "HEAD":
            handler = handlers.get("GET")
        try:
            if handler is None:
                raise errors.method_not_allowed(request.method, allowed)
            response = await handler(request)
        except errors.ApiError as exc:
            response = exc.response(request.path_params.get("version", "59.0"))
        response.headers["Sforce-Limit-Info"] = limit_info()
        return response

    paths = [path.rstrip("/"), path.rstrip("/") + "/"]
    return [Route(p, dispatch, methods=_ALL) for p in paths]


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or JSON_PARSER_ERROR."""
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise errors.json_parser(
            "Unexpected character: was expecting a JSON object at [line:1, column:1]"
        ) from None
    if not isinstance(body, dict):
        raise errors.json_parser(
            "Cannot deserialize instance of object from a non-object value at [line:1, column:1]"
        )
    return body


def no_content() -> Response:
    """204 with no body."""
    return Response(status_code=204)
