"""Discovery resources: API versions, the resource list of a version, describe and
limits."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.base import json_response
from crmsync.sandbox.salesforce.describe import global_describe, object_describe
from crmsync.sandbox.salesforce.endpoint import LimitInfo, route
from crmsync.sandbox.salesforce.limits import limits_body
from crmsync.sandbox.salesforce.org import Org

PREFIX = "/services/data/v{version}"
VERSIONS_PATH = "/services/data"
# Release names of the API versions the versions list reports (three a year).
_RELEASES = {
    52: "Summer '21",
    53: "Winter '22",
    54: "Spring '22",
    55: "Summer '22",
    56: "Winter '23",
    57: "Spring '23",
    58: "Summer '23",
    59: "Winter '24",
    60: "Spring '24",
    61: "Summer '24",
    62: "Winter '25",
    63: "Spring '25",
    64: "Summer '25",
    65: "Winter '26",
}
_RESOURCES = (
    "sobjects",
    "query",
    "queryAll",
    "limits",
    "composite",
    "search",
    "recent",
    "tooling",
    "analytics",
    "connect",
    "ui-api",
)


def versions() -> list[dict[str, str]]:
    """``GET /services/data/``: every version the sandbox answers for."""
    return [
        {"label": label, "url": f"/services/data/v{number}.0", "version": f"{number}.0"}
        for number, label in sorted(_RELEASES.items())
    ]


def meta_routes(
    org: Org, limit_info: LimitInfo, usage: Callable[[], tuple[int, int]]
) -> list[Route]:
    """Routes of the discovery resources bound to `org`."""

    async def version_list(request: Request) -> Response:
        return json_response(versions())

    async def resources(request: Request) -> Response:
        base = f"/services/data/v{request.path_params['version']}"
        return json_response({name: f"{base}/{name}" for name in _RESOURCES})

    async def describe_all(request: Request) -> Response:
        version = request.path_params["version"]
        return json_response(global_describe(version, org.objects.values()))

    async def describe_one(request: Request) -> Response:
        kind = org.store.sobject(request.path_params["sobject"])
        return json_response(object_describe(request.path_params["version"], kind))

    async def limits(request: Request) -> Response:
        return json_response(limits_body(*usage()))

    return [
        Route(VERSIONS_PATH, version_list, methods=["GET"]),
        Route(VERSIONS_PATH + "/", version_list, methods=["GET"]),
        *route(PREFIX, limit_info, GET=resources),
        *route(PREFIX + "/sobjects", limit_info, GET=describe_all),
        *route(PREFIX + "/sobjects/{sobject}/describe", limit_info, GET=describe_one),
        *route(PREFIX + "/limits", limit_info, GET=limits),
    ]
