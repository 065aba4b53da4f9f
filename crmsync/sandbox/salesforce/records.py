"""sObject record resources: basic information, create, read, update, delete and
upsert by external id."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.base import json_response
from crmsync.sandbox.salesforce import errors
from crmsync.sandbox.salesforce.describe import basic_info
from crmsync.sandbox.salesforce.endpoint import LimitInfo, json_object, no_content, route
from crmsync.sandbox.salesforce.errors import MultipleMatches
from crmsync.sandbox.salesforce.org import Org
from crmsync.sandbox.salesforce.schema import SObjectType
from crmsync.sandbox.salesforce.store import Record
from crmsync.sandbox.salesforce.values import to_json

PREFIX = "/services/data/v{version}/sobjects/{sobject}"


def record_url(version: str, sobject: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{sobject}/{record_id}"


def record_json(
    version: str, kind: SObjectType, record: Record, fields: list[str] | None = None
) -> dict[str, Any]:
    """A record as the REST API returns it: ``attributes`` then the fields."""
    names = fields if fields is not None else [f.name for f in kind.fields]
    return {
        "attributes": {"type": kind.name, "url": record_url(version, kind.name, record["Id"])},
        **{name: to_json(record.get(name)) for name in names},
    }


def save_result(record_id: str, created: bool | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
    if created is not None:
        result["created"] = created
    return result


def record_routes(org: Org, limit_info: LimitInfo) -> list[Route]:
    """Routes of the record resources bound to `org`."""
    store = org.store

    def kind_of(request: Request) -> tuple[str, SObjectType]:
        params = request.path_params
        return params["version"], store.sobject(params["sobject"])

    def selected(request: Request, kind: SObjectType) -> list[str] | None:
        text = request.query_params.get("fields")
        if not text:
            return None
        names = []
        for name in (n.strip() for n in text.split(",")):
            found = kind.field(name)
            if found is None:
                raise errors.invalid_field(
                    f"No such column '{name}' on entity '{kind.name}'. If you are attempting "
                    "to use a custom field, be sure to append the '__c' after the custom field "
                    "name. Please reference your WSDL or the describe call for the "
                    "appropriate names."
                )
            names.append(found.name)
        return names

    async def info(request: Request) -> Response:
        version, kind = kind_of(request)
        return json_response(basic_info(version, kind))

    async def create(request: Request) -> Response:
        version, kind = kind_of(request)
        record = store.create(kind.name, await json_object(request), org.api_user)
        return json_response(
            save_result(record["Id"]),
            status=201,
            headers={"Location": record_url(version, kind.name, record["Id"])},
        )

    async def create_by_id(request: Request) -> Response:
        # POST …/sobjects/{Object}/Id (API 37.0+) creates, as an upsert on a null Id does.
        if request.path_params["record_id"].lower() != "id":
            raise errors.method_not_allowed("POST", ["DELETE", "GET", "HEAD", "PATCH"])
        return await create(request)

    async def read(request: Request) -> Response:
        version, kind = kind_of(request)
        record = store.get(kind.name, request.path_params["record_id"])
        return json_response(record_json(version, kind, record, selected(request, kind)))

    async def update(request: Request) -> Response:
        _, kind = kind_of(request)
        store.update(
            kind.name, request.path_params["record_id"], await json_object(request), org.api_user
        )
        return no_content()

    async def delete(request: Request) -> Response:
        _, kind = kind_of(request)
        store.delete(kind.name, request.path_params["record_id"], org.api_user)
        return no_content()

    def by_external(request: Request, kind: SObjectType) -> Record:
        params = request.path_params
        found = kind.field(params["field"])
        if found is None or not (found.external_id or found.name == "Id"):
            raise errors.not_found(
                "Provided external ID field does not exist or is not accessible: " + params["field"]
            )
        if found.name == "Id":
            return store.get(kind.name, params["value"])
        matches = store.match_external(kind.name, found.name, params["value"])
        if len(matches) > 1:
            raise MultipleMatches(kind.name, matches)
        if not matches:
            raise errors.not_found()
        return store.get(kind.name, matches[0])

    async def read_external(request: Request) -> Response:
        version, kind = kind_of(request)
        record = by_external(request, kind)
        return json_response(record_json(version, kind, record, selected(request, kind)))

    async def upsert(request: Request) -> Response:
        version, kind = kind_of(request)
        params = request.path_params
        body = await json_object(request)
        record, created = store.upsert(
            kind.name, params["field"], params["value"], body, org.api_user
        )
        if created:
            return json_response(save_result(record["Id"], True), status=201)
        if _version(version) >= org.settings.upsert_body_from_version:
            return json_response(save_result(record["Id"], False), status=200)
        return no_content()

    async def delete_external(request: Request) -> Response:
        _, kind = kind_of(request)
        record = by_external(request, kind)
        store.delete(kind.name, record["Id"], org.api_user)
        return no_content()

    return [
        *route(PREFIX, limit_info, POST=create, GET=info),
        *route(
            PREFIX + "/{record_id}",
            limit_info,
            GET=read,
            PATCH=update,
            DELETE=delete,
            POST=create_by_id,
        ),
        *route(
            PREFIX + "/{field}/{value}",
            limit_info,
            GET=read_external,
            PATCH=upsert,
            DELETE=delete_external,
        ),
    ]


def _version(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0
