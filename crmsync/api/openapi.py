"""The OpenAPI document, made exact about what every operation may answer.

FastAPI describes the success answer and a 422 in its own shape. crmsync also answers
every error in one shape (``{"error": {"code", "message", "details"}}``), refuses
unauthenticated calls (401) and callers whose role lacks the permission (403), and
may answer 404, 409, 413, 500 or, where a CRM is called, 502. This module adds the
bearer security scheme, the ``Error`` schema and those statuses, derived from each route
(its dependencies, parameters and body), so clients and schema-driven fuzzers
(schemathesis, in ``.ci/fuzz``) can hold the API to its document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from crmsync.api.errors import flat_routes
from crmsync.api.routing import needs_principal

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}
_REF = {"$ref": "#/components/schemas/Error"}
_DESCRIPTIONS = {
    "400": "The request is not understood (a webhook delivery, an OAuth callback)",
    "401": "No API key, or an unknown or revoked one",
    "403": "The key's role lacks the permission this call needs",
    "404": "No such resource in the caller's workspace",
    "405": "The method is not allowed on this path (see the Allow header)",
    "409": "The change conflicts with the current state",
    "413": "The request body is over the limit",
    "422": "The request is invalid; `details` names each field",
    "500": "An unexpected failure; the answer's X-Request-ID finds it in the log",
    "502": "The CRM failed or could not be reached",
}
# Paths of operations that call a CRM, and may relay its failure.
_CALLS_A_CRM = ("/integrations/{integration_id}", "/oauth/", "/sync")


def _statuses(route: Any) -> set[str]:
    statuses = {"500"}
    if needs_principal(route.dependant):
        statuses |= {"401", "403"}
    if route.dependant.path_params or route.dependant.query_params or route.body_field:
        statuses.add("422")
    if route.dependant.path_params or route.body_field:  # ids in the path or the body
        statuses.add("404")
    if route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
        statuses |= {"409", "413", "422"}
    if any(part in route.path for part in _CALLS_A_CRM):
        statuses.add("502")
    if "/webhooks/" in route.path or "/oauth/" in route.path:
        statuses |= {"400", "401", "404"}
    return statuses


def _document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "an API key"}
    }
    for route in _api_routes(app):
        path = schema["paths"].get(route.path_format, {})
        for method in route.methods:
            operation = path.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(route)):
                # other media types a route declares (the OAuth callback's page) stay
                declared = responses.get(status, {}).get("content", {})
                responses[status] = {
                    "description": _DESCRIPTIONS[status],
                    "content": {**declared, "application/json": {"schema": _REF}},
                }
            if needs_principal(route.dependant):
                operation["security"] = [{"bearer": []}]
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)  # crmsync's 422 is an Error
    return schema


def _api_routes(app: FastAPI) -> list[Any]:
    """API routes (or FastAPI's contexts of included ones, which carry the same fields)."""
    return [
        r
        for r in flat_routes(app.router.routes)
        if isinstance(getattr(r, "original_route", r), APIRoute)
    ]


def install(app: FastAPI) -> None:
    """Serve the exact document at ``app.openapi_url`` (made once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
