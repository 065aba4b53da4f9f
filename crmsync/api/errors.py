"""One error shape for every endpoint: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from crmsync.connectors.errors import ConfigError, ConnectorError
from crmsync.errors import CrmsyncError, http_status

log = structlog.get_logger("crmsync.api")


class ApiError(Exception):
    """Raised by routers and dependencies for an answer other than success."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


status_of = http_status  # each kind of crmsync's errors answers with one status


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        message = "unknown field" if err.get("type") == "extra_forbidden" else err.get("msg", "")
        if err.get("type") == "json_invalid":
            message = "body is not valid JSON"
        details.append({"field": ".".join(loc) or "body", "message": message})
    return details


def flat_routes(routes: list[Any]) -> Iterator[Any]:
    # FastAPI >= 0.120 keeps included routers whole and exposes their routes as contexts
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is None:
            yield route
        else:
            yield from contexts() if callable(contexts) else contexts


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in flat_routes(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(CrmsyncError)
    async def _crmsync_error(_request: Request, exc: CrmsyncError) -> JSONResponse:
        return error_response(status_of(exc), exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return error_response(422, "validation_error", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = str(exc.detail)
        if exc.status_code in (404, 405) and message in ("Not Found", "Method Not Allowed"):
            message = f"no route {request.method} {request.url.path}; see /docs"
        headers = dict(exc.headers or {})  # 401 keeps its WWW-Authenticate
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(exc.status_code, code, message, headers=headers or None)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # A race the services' own checks cannot close (two writers of one external_ref, a
        # row removed meanwhile): the database's constraint decided, and the caller may retry.
        log.warning("constraint refused a write", path=request.url.path, error=str(exc.orig))
        return error_response(
            409, "conflict", "the change conflicts with a concurrent one; read and retry"
        )

    @app.exception_handler(ConnectorError)
    async def _connector(request: Request, exc: ConnectorError) -> JSONResponse:
        # A CRM's answer that no router expected: the CRM failed, not crmsync (502).
        log.warning("CRM error reached the API", path=request.url.path, error=exc.message)
        if isinstance(exc, ConfigError):  # an integration set up wrongly (an unsafe URL...)
            return error_response(422, "integration_config", exc.message)
        details = {"class": type(exc).__name__}
        return error_response(502, "crm_error", f"the CRM failed: {exc.message}", details)

    @app.exception_handler(httpx.HTTPError)
    async def _unreachable(request: Request, exc: httpx.HTTPError) -> JSONResponse:
        log.warning("CRM unreachable", path=request.url.path, error=repr(exc)[:200])
        return error_response(
            502, "crm_unreachable", f"could not reach the CRM ({type(exc).__name__})"
        )

    # Anything else is a 500 from RequestContextMiddleware: one path, with the request id.
