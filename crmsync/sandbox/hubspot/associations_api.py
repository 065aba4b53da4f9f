"""Associations v4: `/crm/v4/objects/...` per record and `/crm/v4/associations/...` batch."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import json_response, read_json
from crmsync.sandbox.hubspot import errors
from crmsync.sandbox.hubspot.associations import HUBSPOT_DEFINED, AssociationType, default_type
from crmsync.sandbox.hubspot.crm import HubSpotCrm
from crmsync.sandbox.hubspot.objects import body_of
from crmsync.sandbox.timefmt import iso_ms

V4 = "/crm/v4/objects/{from_type}/{from_id}/associations"


_CATEGORIES = ("HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED", "WORK")


def _types(raw: Any, known: list[AssociationType]) -> list[AssociationType]:
    """The association types of a body; each must be one defined between the two object
    types (HubSpot refuses an unknown type id rather than storing it)."""
    if not isinstance(raw, list) or not raw:
        raise errors.validation("association types must be a non-empty list")
    by_id = {(t.category, t.type_id): t for t in known}
    found = []
    for item in raw:
        category = item.get("associationCategory") if isinstance(item, dict) else None
        type_id = item.get("associationTypeId") if isinstance(item, dict) else None
        if category not in _CATEGORIES or isinstance(type_id, bool) or not isinstance(type_id, int):
            raise errors.validation(
                "each type needs associationCategory (one of "
                f"{', '.join(_CATEGORIES)}) and an integer associationTypeId"
            )
        match = by_id.get((category, type_id))
        if match is None:
            raise errors.validation(f"{category} association type {type_id} is not defined")
        found.append(match)
    return found


def _id(ref: Any) -> str:
    if not isinstance(ref, dict) or "id" not in ref:
        raise errors.validation("Invalid input: each reference needs an id")
    return str(ref["id"])


def association_routes(crm: HubSpotCrm) -> list[BaseRoute]:
    """Per-record and batch association endpoints."""

    def singulars(from_name: str, to_name: str) -> tuple[str, str]:
        return crm.store(from_name).spec.singular, crm.store(to_name).spec.singular

    def existing(object_name: str, record_id: str) -> str:
        store = crm.store(object_name)
        record = store.get(record_id)
        if record is None:
            raise errors.not_found(store.spec.singular, record_id)
        return record.id

    def listing(from_type: str, from_id: str, to_type: str) -> list[dict[str, Any]]:
        edges = crm.associations.targets(from_type, from_id, to_type)
        return [
            {"toObjectId": int(to_id), "associationTypes": [t.to_json() for t in types]}
            for to_id, types in edges.items()
        ]

    def batch_body(results: list[Any]) -> dict[str, Any]:
        now = iso_ms(crm.now_ms())
        return {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}

    async def put_default(request: Request) -> Response:
        p = request.path_params
        from_type, to_type = singulars(p["from_type"], p["to_type"])
        from_id = existing(p["from_type"], p["from_id"])
        to_id = existing(p["to_type"], p["to_id"])
        type_id = default_type(from_type, to_type)
        crm.associations.add(
            from_type, from_id, to_type, to_id, [AssociationType(HUBSPOT_DEFINED, type_id)]
        )
        spec = {"associationCategory": HUBSPOT_DEFINED, "associationTypeId": type_id}
        result = {"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": spec}
        return json_response(batch_body([result]))

    async def put_labelled(request: Request) -> Response:
        p = request.path_params
        from_type, to_type = singulars(p["from_type"], p["to_type"])
        from_id = existing(p["from_type"], p["from_id"])
        to_id = existing(p["to_type"], p["to_id"])
        types = _types(await read_json(request), crm.associations.known_types(from_type, to_type))
        crm.associations.add(from_type, from_id, to_type, to_id, types)
        return json_response(
            {
                "fromObjectTypeId": crm.store(p["from_type"]).spec.type_id,
                "fromObjectId": int(from_id),
                "toObjectTypeId": crm.store(p["to_type"]).spec.type_id,
                "toObjectId": int(to_id),
                "labels": [t.label for t in types if t.label],
            },
            status=201,
        )

    async def list_for_record(request: Request) -> Response:
        p = request.path_params
        from_type, to_type = singulars(p["from_type"], p["to_type"])
        return json_response({"results": listing(from_type, p["from_id"], to_type)})

    async def delete(request: Request) -> Response:
        p = request.path_params
        from_type, to_type = singulars(p["from_type"], p["to_type"])
        crm.associations.remove(from_type, p["from_id"], to_type, p["to_id"])
        return Response(status_code=204)

    def live(object_name: str, record_id: str) -> bool:
        return crm.store(object_name).get(record_id) is not None

    async def batch(request: Request) -> Response:
        p = request.path_params
        action = p["action"]
        actions = ("read", "create", "archive", "associate/default", "labels/archive")
        if action not in actions:
            return errors.error_response(404, "OBJECT_NOT_FOUND", f"No batch action {action}")
        from_type, to_type = singulars(p["from_type"], p["to_type"])
        inputs = (await body_of(request)).get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            raise errors.validation("inputs must be a list of objects")
        if action == "read":
            ids = [_id(i) for i in inputs]
            found = [{"from": {"id": i}, "to": listing(from_type, i, to_type)} for i in ids]
            return json_response(batch_body(found))
        if action == "archive":
            # BatchInputPublicAssociationMultiArchive: {from: {id}, to: [{id}, ...]}
            for item in inputs:
                targets = item.get("to")
                if not isinstance(targets, list):
                    raise errors.validation("Invalid input: `to` must be a list of {id}")
                for to_id in (_id(t) for t in targets):
                    crm.associations.remove(from_type, _id(item.get("from")), to_type, to_id)
            return Response(status_code=204)
        known = crm.associations.known_types(from_type, to_type)
        results: list[dict[str, Any]] = []
        problems: list[dict[str, Any]] = []
        for item in inputs:
            from_id, to_id = _id(item.get("from")), _id(item.get("to"))
            if action == "labels/archive":
                crm.associations.remove_types(
                    from_type, from_id, to_type, to_id, _types(item.get("types"), known)
                )
                continue
            types = (
                [AssociationType(HUBSPOT_DEFINED, default_type(from_type, to_type))]
                if action == "associate/default"
                else _types(item.get("types"), known)
            )
            absent = [
                f"{name} {rid}"
                for name, rid, obj in (
                    (from_type, from_id, p["from_type"]),
                    (to_type, to_id, p["to_type"]),
                )
                if not live(obj, rid)
            ]
            if absent:
                problems.append(
                    errors.standard_error(
                        "error", "VALIDATION_ERROR", f"No such object: {', '.join(absent)}"
                    )
                )
                continue
            crm.associations.add(from_type, from_id, to_type, to_id, types)
            results.append(
                {
                    "fromObjectTypeId": crm.store(p["from_type"]).spec.type_id,
                    "fromObjectId": int(from_id) if from_id.isdigit() else from_id,
                    "toObjectTypeId": crm.store(p["to_type"]).spec.type_id,
                    "toObjectId": int(to_id) if to_id.isdigit() else to_id,
                    "labels": [t.label for t in types if t.label],
                }
            )
        if action == "labels/archive":
            return Response(status_code=204)
        body = batch_body(results)
        if problems:
            body.update(numErrors=len(problems), errors=problems)
            return json_response(body, status=207)
        return json_response(body, status=201 if action == "create" else 200)

    async def labels(request: Request) -> Response:
        p = request.path_params
        from_type, to_type = singulars(p["from_type"], p["to_type"])
        known = crm.associations.known_types(from_type, to_type)
        return json_response({"results": [t.to_json() for t in known]})

    async def create_label(request: Request) -> Response:
        p = request.path_params
        from_type, to_type = singulars(p["from_type"], p["to_type"])
        body = await body_of(request)
        label, name = body.get("label"), body.get("name")
        if not isinstance(label, str) or not label or not isinstance(name, str) or not name:
            raise errors.validation("label and name are required")
        made = crm.associations.add_label(from_type, to_type, label)
        return json_response({"results": [made.to_json()]})

    async def v3_types(request: Request) -> Response:
        p = request.path_params
        from_type, to_type = singulars(p["from_type"], p["to_type"])
        known = crm.associations.known_types(from_type, to_type)
        return json_response(
            {
                "results": [
                    {"id": str(t.type_id), "name": (t.label or f"{from_type}_to_{to_type}")}
                    for t in known
                ]
            }
        )

    async def batch_labels_archive(request: Request) -> Response:
        request.path_params["action"] = "labels/archive"
        return await batch(request)

    async def batch_default(request: Request) -> Response:
        request.path_params["action"] = "associate/default"
        return await batch(request)

    return [
        Route(V4 + "/default/{to_type}/{to_id}", put_default, methods=["PUT"]),
        Route(V4 + "/{to_type}/{to_id}", put_labelled, methods=["PUT"]),
        Route(V4 + "/{to_type}/{to_id}", delete, methods=["DELETE"]),
        Route(V4 + "/{to_type}", list_for_record, methods=["GET"]),
        Route(
            "/crm/v4/associations/{from_type}/{to_type}/batch/associate/default",
            batch_default,
            methods=["POST"],
        ),
        Route(
            "/crm/v4/associations/{from_type}/{to_type}/batch/labels/archive",
            batch_labels_archive,
            methods=["POST"],
        ),
        Route("/crm/v4/associations/{from_type}/{to_type}/batch/{action}", batch, methods=["POST"]),
        Route("/crm/v4/associations/{from_type}/{to_type}/labels", labels, methods=["GET"]),
        Route("/crm/v4/associations/{from_type}/{to_type}/labels", create_label, methods=["POST"]),
        Route("/crm/v3/associations/{from_type}/{to_type}/types", v3_types, methods=["GET"]),
    ]
