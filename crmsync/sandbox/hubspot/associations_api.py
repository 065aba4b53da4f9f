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


def _types(raw: Any) -> list[AssociationType]:
    if not isinstance(raw, list) or not raw:
        raise errors.validation("association types must be a non-empty list")
    return [
        AssociationType(
            str(t.get("associationCategory", HUBSPOT_DEFINED)),
            int(t.get("associationTypeId", 0)),
            t.get("label"),
        )
        for t in raw
    ]


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
        types = _types(await read_json(request))
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

    async def batch(request: Request) -> Response:
        p = request.path_params
        from_type, to_type = singulars(p["from_type"], p["to_type"])
        inputs = (await body_of(request)).get("inputs") or []
        action = p["action"]
        if action == "read":
            results = [
                {"from": {"id": str(i["id"])}, "to": listing(from_type, str(i["id"]), to_type)}
                for i in inputs
            ]
            return json_response(batch_body(results))
        for item in inputs:
            from_id, to_id = str(item["from"]["id"]), str(item["to"]["id"])
            if action == "archive":
                crm.associations.remove(from_type, from_id, to_type, to_id)
                continue
            types = (
                [AssociationType(HUBSPOT_DEFINED, default_type(from_type, to_type))]
                if action == "associate/default"
                else _types(item.get("types"))
            )
            crm.associations.add(from_type, from_id, to_type, to_id, types)
        if action == "archive":
            return Response(status_code=204)
        return json_response(batch_body([]), status=201 if action == "create" else 200)

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
        Route("/crm/v4/associations/{from_type}/{to_type}/batch/{action}", batch, methods=["POST"]),
    ]
