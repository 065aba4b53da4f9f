"""The route class of every API router: authentication first, then a JSON body within limits.

FastAPI reads and parses a request's body before it solves dependencies, so a caller
without a key would learn how its body was judged (422) instead of being refused (401),
and the parser would spend its work on anyone's input. ``GuardedRoute`` authenticates
first, for every route that depends on ``get_principal``, and then parses a JSON body
with ``crmsync.jsonlimits`` (64-bit integers, no NaN/Infinity, bounded nesting and
strings), handing FastAPI the parsed value so the body is parsed once.
"""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from crmsync import jsonlimits
from crmsync.api.deps import authenticate_request, get_principal
from crmsync.api.errors import ApiError

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def needs_principal(dependant: Dependant) -> bool:
    stack = [dependant]
    while stack:
        node = stack.pop()
        if node.call is get_principal:
            return True
        stack.extend(node.dependencies)
    return False


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def parse_json_body(request: Request) -> None:
    """Parse a JSON body within the limits, where FastAPI will find it (``Request.json``)."""
    if not _is_json(request.headers.get("content-type")):
        return  # uploads stream on to FastAPI's form parser, unread here
    body = await request.body()
    if not body:
        return
    try:
        request._json = jsonlimits.loads(body)
    except jsonlimits.JsonRefused as exc:
        field = exc.path or "body"
        message = "body is not valid JSON" if exc.message.startswith("not valid") else exc.message
        raise ApiError(
            422,
            "validation_error",
            f"{field}: {message}",
            [{"field": field, "message": message}],
        ) from None


class GuardedRoute(APIRoute):
    @property
    def authenticated(self) -> bool:
        """Whether the route needs an API key (it depends on ``get_principal``)."""
        return needs_principal(self.dependant)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        authenticated = self.authenticated
        has_body = self.body_field is not None

        async def guarded(request: Request) -> Response:
            if authenticated:
                await run_in_threadpool(authenticate_request, request)
            if has_body:
                await parse_json_body(request)
            return await handler(request)

        return guarded
