"""`/crm/v3/objects/{objectType}`: list, read, create, update, archive, merge, search.

Batch endpoints live in `batch`; both share the parsing helpers here.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import json_response, read_json
from crmsync.sandbox.hubspot import errors
from crmsync.sandbox.hubspot.associations import AssociationType, target_of
from crmsync.sandbox.hubspot.crm import HubSpotCrm
from crmsync.sandbox.hubspot.records import ObjectStore, Record
from crmsync.sandbox.hubspot.search import SearchCaps, SearchError, run

LIST_MAX = 100
INVALID_JSON = "Invalid input JSON: expected an object"
PREFIXES = ("/crm/v3/objects/{object_type}", "/crm/objects/2026-03/{object_type}")


def names(request: Request, key: str) -> list[str] | None:
    """A csv or repeated query parameter as a list (None when absent)."""
    values = request.query_params.getlist(key)
    if not values:
        return None
    return [n for v in values for n in v.split(",") if n]


def int_param(request: Request, key: str, default: int) -> int:
    """An integer query parameter, or VALIDATION_ERROR."""
    text = request.query_params.get(key) or str(default)
    try:
        return int(text)
    except ValueError:
        raise errors.validation(f"{key} must be an integer, got {text!r}") from None


def flag(request: Request, key: str) -> bool:
    """A boolean query parameter (``true``/``false``)."""
    return request.query_params.get(key, "false").lower() == "true"


async def body_of(request: Request) -> dict[str, Any]:
    """The JSON object body, or VALIDATION_ERROR."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise errors.validation(INVALID_JSON)
    return body


def check_associations(crm: HubSpotCrm, store: ObjectStore, items: Any) -> None:
    """Refuse create-time associations of an unknown type or to a missing record (checked
    before anything is created, so a refused batch creates nothing)."""
    for item in items or []:
        to_id = str((item.get("to") or {}).get("id", ""))
        for kind in item.get("types") or []:
            type_id = int(kind.get("associationTypeId", 0))
            to_type = target_of(store.spec.singular, type_id)
            if to_type is None:
                raise errors.validation(f"Unknown association type id {type_id}")
            if crm.store(to_type).get(to_id) is None:
                raise errors.validation(f"No {to_type} with id {to_id} to associate with")


def associate_inputs(crm: HubSpotCrm, store: ObjectStore, record: Record, items: Any) -> None:
    """Create-time `associations: [{to: {id}, types: [...]}]` (see `check_associations`)."""
    for item in items or []:
        to_id = str((item.get("to") or {}).get("id", ""))
        for kind in item.get("types") or []:
            type_id = int(kind.get("associationTypeId", 0))
            to_type = target_of(store.spec.singular, type_id)
            if to_type is None:
                raise errors.validation(f"Unknown association type id {type_id}")
            crm.associations.add(
                store.spec.singular,
                record.id,
                to_type,
                to_id,
                [AssociationType(kind.get("associationCategory", "HUBSPOT_DEFINED"), type_id)],
            )


def render_with_associations(
    crm: HubSpotCrm, store: ObjectStore, record: Record, request: Request
) -> dict[str, Any]:
    """A record with the requested properties, history and associations."""
    body = store.render(
        record, names(request, "properties"), names(request, "propertiesWithHistory")
    )
    wanted = names(request, "associations")
    if wanted:
        body["associations"] = {}
        for to_name in wanted:
            target = crm.store(to_name).spec
            edges = crm.associations.targets(store.spec.singular, record.id, target.singular)
            body["associations"][target.name] = {
                "results": [
                    {"id": to_id, "type": f"{store.spec.singular}_to_{target.singular}"}
                    for to_id in edges
                ]
            }
    return body


def object_routes(crm: HubSpotCrm, caps: SearchCaps) -> list[BaseRoute]:
    """Routes for the single-record, list, merge and search endpoints."""

    async def list_records(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        limit = int_param(request, "limit", 10)
        if not 0 < limit <= LIST_MAX:
            raise errors.validation(f"limit must be between 1 and {LIST_MAX}")
        after = int_param(request, "after", 0)
        page, next_after = store.page(after, limit, flag(request, "archived"))
        body: dict[str, Any] = {
            "results": [render_with_associations(crm, store, r, request) for r in page]
        }
        if next_after is not None:
            link = f"{request.url.path}?after={next_after}&limit={limit}"
            body["paging"] = {"next": {"after": str(next_after), "link": link}}
        return json_response(body)

    async def read(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        record_id = request.path_params["record_id"]
        record = store.lookup(record_id, request.query_params.get("idProperty"))
        if flag(request, "archived"):
            record = store.get(record_id, archived=True)
        if record is None:
            raise errors.not_found(store.spec.singular, record_id)
        return json_response(render_with_associations(crm, store, record, request))

    async def create(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        body = await body_of(request)
        clean = crm.validated(store, body.get("properties") or {}, creating=True)
        conflict = crm.conflict(store, clean)
        if conflict is not None:
            raise errors.conflict(conflict)
        check_associations(crm, store, body.get("associations"))
        record = crm.create(store, clean)
        associate_inputs(crm, store, record, body.get("associations"))
        return json_response(store.render_stored(record), status=201)

    async def update(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        record_id = request.path_params["record_id"]
        record = store.lookup(record_id, request.query_params.get("idProperty"))
        if record is None:
            raise errors.not_found(store.spec.singular, record_id)
        body = await body_of(request)
        clean = crm.validated(store, body.get("properties") or {}, creating=False, current=record)
        conflict = crm.conflict(store, clean, record.id)
        if conflict is not None:
            raise errors.conflict(conflict)
        crm.update(store, record, clean)
        return json_response(store.render_stored(record))

    async def archive(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        record = store.get(request.path_params["record_id"])
        if record is not None:
            crm.archive(store, record)
        return Response(status_code=204)

    async def merge(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        body = await body_of(request)
        primary = store.get(str(body.get("primaryObjectId", "")))
        other = store.get(str(body.get("objectIdToMerge", "")))
        if primary is None or other is None:
            raise errors.validation("primaryObjectId and objectIdToMerge must be existing records")
        if primary.id == other.id:
            raise errors.validation("Cannot merge a record with itself")
        crm.merge(store, primary, other)
        return json_response(store.render_stored(primary))

    async def gdpr_delete(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        body = await body_of(request)
        object_id = str(body.get("objectId", ""))
        record = store.lookup(object_id, body.get("idProperty")) or store.get(object_id, True)
        if record is None:
            raise errors.not_found(store.spec.singular, object_id)
        crm.purge(store, record)
        return Response(status_code=204)

    async def search(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        body = await body_of(request)
        spec = store.spec

        def associated(record_id: str, to_name: str) -> set[str]:
            target = crm.store(to_name).spec.singular
            return set(crm.associations.targets(spec.singular, record_id, target))

        records = store.live()
        if caps.lag_ms:
            cutoff = crm.now_ms() - caps.lag_ms
            records = (r for r in records if r.updated_ms <= cutoff)
        try:
            page = run(records, body, store.properties, spec.query_properties, caps, associated)
        except SearchError as exc:
            raise errors.validation(str(exc)) from exc
        wanted = body.get("properties") or None
        result: dict[str, Any] = {
            "total": page.total,
            "results": [store.render(r, wanted) for r in page.records],
        }
        if page.next_after is not None:
            result["paging"] = {"next": {"after": page.next_after}}
        return json_response(result)

    routes: list[BaseRoute] = []
    for prefix in PREFIXES:
        routes += [
            Route(prefix, list_records, methods=["GET"]),
            Route(prefix, create, methods=["POST"]),
            Route(prefix + "/search", search, methods=["POST"]),
            Route(prefix + "/merge", merge, methods=["POST"]),
            Route(prefix + "/gdpr-delete", gdpr_delete, methods=["POST"]),
            Route(prefix + "/{record_id}", read, methods=["GET"]),
            Route(prefix + "/{record_id}", update, methods=["PATCH"]),
            Route(prefix + "/{record_id}", archive, methods=["DELETE"]),
        ]
    return routes
