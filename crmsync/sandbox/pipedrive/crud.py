"""The create/get/update/delete handlers both API versions share, differing in shape only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from crmsync.sandbox.base import read_json
from crmsync.sandbox.pipedrive.company import Company
from crmsync.sandbox.pipedrive.envelope import ok
from crmsync.sandbox.pipedrive.kinds import LEAD, NOTE, Kind

Handler = Callable[[Request], Awaitable[Response]]
Render = Callable[[Kind, dict[str, Any]], dict[str, Any]]


def record_routes(
    company: Company, kind: Kind, version: int, render: Render, list_handler: Handler
) -> list[tuple[str, Handler, list[str]]]:
    """(path, handler, methods) rows for one entity under /v1 or /api/v2."""

    async def create(request: Request) -> Response:
        record = company.create(kind, await read_json(request), version=version)
        # v1 creates answer 201 (notes 200); the v2 spec gives 200 for every create
        return ok(render(kind, record), status=kind.create_status if version == 1 else 200)

    async def get(request: Request) -> Response:
        # deleted records stay readable by id (Pipedrive purges them after 30 days)
        found = company.find(kind, request.path_params["id"], include_deleted=kind is not NOTE)
        return ok(render(kind, found))

    async def update(request: Request) -> Response:
        body = await read_json(request)
        return ok(render(kind, company.update(kind, request.path_params["id"], body, version)))

    async def delete(request: Request) -> Response:
        return ok({"id": company.delete(kind, request.path_params["id"])["id"]})

    base = f"/v1/{kind.plural}" if version == 1 else f"/api/v2/{kind.plural}"
    # v2 updates are PATCH; v1 updates are PUT except leads
    update_method = "PATCH" if version == 2 or kind is LEAD else "PUT"
    return [
        (base, list_handler, ["GET"]),
        (base, create, ["POST"]),
        (f"{base}/{{id}}", get, ["GET"]),
        (f"{base}/{{id}}", update, [update_method]),
        (f"{base}/{{id}}", delete, ["DELETE"]),
    ]
