"""Routes grouped by their resource prefix, so a request is matched against a few only.

Starlette tries routes one by one; with 70-odd routes that linear scan was a fifth of
the server's time per request. `RouteGroups` buckets routes by the path's version
segments plus the resource (`/v1/persons`, `/api/v2/deals`) and by method, and scans
one small bucket; only a wrong method (405) looks at the resource's other routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send


def _is_version(segment: str) -> bool:
    return segment[:1] == "v" and segment[1:].isdigit()


def resource_key(path: str) -> tuple[str, ...]:
    """('v1', 'persons') for /v1/persons/5; ('api', 'v2', 'deals') for /api/v2/deals."""
    parts = [p for p in path.split("/") if p]
    n = 0
    while n < len(parts) and (parts[n] == "api" or _is_version(parts[n])):
        n += 1
    return tuple(parts[: n + 1])


class RouteGroups(BaseRoute):
    """One route standing for many, dispatching by `resource_key`."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.groups: dict[tuple[str, ...], list[Route]] = {}
        self.by_method: dict[tuple[tuple[str, ...], str], list[Route]] = {}
        for route in routes:
            key = resource_key(route.path)
            self.groups.setdefault(key, []).append(route)
            for method in route.methods or ():
                self.by_method.setdefault((key, method), []).append(route)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        key = resource_key(scope["path"])
        for route in self.by_method.get((key, scope["method"]), ()):
            match, child = route.matches(scope)
            if match is Match.FULL:
                return match, {**child, "grouped_route": route}
        partial: tuple[Match, Scope] | None = None
        for route in self.groups.get(key, ()):
            match, child = route.matches(scope)
            if match is Match.FULL:
                return match, {**child, "grouped_route": route}
            if match is Match.PARTIAL and partial is None:
                partial = (match, {**child, "grouped_route": route})
        return partial or (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: Route = scope["grouped_route"]
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)
