"""The generic REST CRM's `/api/v1` routes (wire format in docs/sandboxes.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import SandboxError, json_response, read_json
from crmsync.sandbox.generic.store import FIELDS, GenericStore, Item, validate
from crmsync.sandbox.timefmt import parse_iso

MAX_LIMIT = 200
Notify = Callable[[str, str, Item], None]


def error(
    status: int, code: str, message: str, details: list[dict[str, str]] | None = None
) -> Response:
    """``{"error": {"code", "message", "details"?}}``."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return json_response({"error": body}, status=status)


def fail(
    status: int, code: str, message: str, details: list[dict[str, str]] | None = None
) -> SandboxError:
    """The same, raised from a handler."""
    return SandboxError(error(status, code, message, details))


def record_routes(store: GenericStore, notify: Notify) -> list[BaseRoute]:
    """Create, read, update, upsert by reference, delete and list for each resource."""

    def resource_of(request: Request) -> str:
        resource = request.path_params["resource"]
        if resource not in FIELDS:
            raise fail(404, "not_found", f"unknown resource {resource}")
        return str(resource)

    async def payload(request: Request, resource: str, creating: bool) -> dict[str, Any]:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise fail(400, "validation_error", "body must be a JSON object")
        problems = validate(resource, body, creating)
        if problems:
            raise fail(400, "validation_error", "invalid fields", problems)
        return body

    def found(resource: str, item_id: str, request: Request) -> Item:
        deleted = request.query_params.get("includeDeleted") == "true"
        item = store.get(resource, item_id, deleted)
        if item is None:
            raise fail(404, "not_found", f"{resource} {item_id} not found")
        return item

    def taken(resource: str, ref: Any, own: Item | None = None) -> None:
        other = store.by_reference(resource, ref) if ref else None
        if other is not None and other is not own:
            raise fail(409, "conflict", f"externalReference {ref!r} is used by {other.id}")

    async def create(request: Request) -> Response:
        resource = resource_of(request)
        body = await payload(request, resource, creating=True)
        taken(resource, body.get("externalReference"))
        item = store.create(resource, body)
        notify(resource, "created", item)
        return json_response(item.to_json(), status=201)

    async def read(request: Request) -> Response:
        resource = resource_of(request)
        return json_response(found(resource, request.path_params["item_id"], request).to_json())

    async def update(request: Request) -> Response:
        resource = resource_of(request)
        item = found(resource, request.path_params["item_id"], request)
        body = await payload(request, resource, creating=False)
        taken(resource, body.get("externalReference"), item)
        if store.update(resource, item, body):
            notify(resource, "updated", item)
        return json_response(item.to_json())

    async def delete(request: Request) -> Response:
        resource = resource_of(request)
        item = found(resource, request.path_params["item_id"], request)
        store.delete(resource, item)
        notify(resource, "deleted", item)
        return Response(status_code=204)

    async def read_by_reference(request: Request) -> Response:
        resource = resource_of(request)
        ref = request.path_params["ref"]
        item = store.by_reference(resource, ref)
        if item is None:
            raise fail(404, "not_found", f"no {resource} with externalReference {ref!r}")
        return json_response(item.to_json())

    async def upsert_by_reference(request: Request) -> Response:
        resource = resource_of(request)
        ref = request.path_params["ref"]
        item = store.by_reference(resource, ref)
        body = await payload(request, resource, creating=item is None)
        body = {**body, "externalReference": ref}
        if item is None:
            item = store.create(resource, body)
            notify(resource, "created", item)
            return json_response(item.to_json(), status=201)
        if store.update(resource, item, body):
            notify(resource, "updated", item)
        return json_response(item.to_json())

    async def list_items(request: Request) -> Response:
        resource = resource_of(request)
        params = request.query_params
        try:
            limit = int(params.get("limit", "100"))
            after = int(params.get("cursor") or 0)
        except ValueError:
            raise fail(400, "validation_error", "limit and cursor must be integers") from None
        if not 0 < limit <= MAX_LIMIT:
            raise fail(400, "validation_error", f"limit must be between 1 and {MAX_LIMIT}")
        since = None
        if "modifiedSince" in params:
            since = parse_iso(params["modifiedSince"])
            if since is None:
                raise fail(400, "validation_error", "modifiedSince must be ISO-8601")
        with_deleted = since is not None or params.get("includeDeleted") == "true"
        ref = params.get("externalReference")
        page: list[Item] = []
        more = False
        for item in store.changed(resource, after, since, with_deleted):
            if ref is not None and item.external_reference != ref:
                continue
            if len(page) == limit:
                more = True
                break
            page.append(item)
        cursor = str(page[-1].version) if more and page else None
        return json_response({"data": [i.to_json() for i in page], "nextCursor": cursor})

    base = "/api/v1/{resource}"
    return [
        Route(base, list_items, methods=["GET"]),
        Route(base, create, methods=["POST"]),
        Route(base + "/by-reference/{ref}", read_by_reference, methods=["GET"]),
        Route(base + "/by-reference/{ref}", upsert_by_reference, methods=["PUT"]),
        Route(base + "/{item_id}", read, methods=["GET"]),
        Route(base + "/{item_id}", update, methods=["PATCH"]),
        Route(base + "/{item_id}", delete, methods=["DELETE"]),
    ]
