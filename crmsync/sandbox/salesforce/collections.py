"""sObject Collections (``/composite/sobjects``): create, update, upsert, delete and
retrieve up to 200 records in one call, with per-record results in input order.

With ``allOrNone`` a failure rolls every write of the call back; the records that
did not fail then report ALL_OR_NONE_OPERATION_ROLLED_BACK.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.base import json_response
from crmsync.sandbox.salesforce import errors
from crmsync.sandbox.salesforce.endpoint import LimitInfo, json_object, route
from crmsync.sandbox.salesforce.org import Org
from crmsync.sandbox.salesforce.records import record_json, save_result

PREFIX = "/services/data/v{version}/composite/sobjects"
Item = Callable[[Any], dict[str, Any]]
_ROLLED_BACK = errors.ApiError(
    400,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
)


def collection_routes(org: Org, limit_info: LimitInfo) -> list[Route]:
    """Routes of the collections resources bound to `org`."""
    store = org.store
    user = org.api_user

    def record_type(record: dict[str, Any]) -> str:
        attributes = record.get("attributes")
        name = attributes.get("type") if isinstance(attributes, dict) else None
        if not isinstance(name, str):
            raise errors.ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.", [])
        try:
            return store.sobject(name).name
        except errors.ApiError:
            raise errors.invalid_type(name) from None

    def fields_of(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k != "attributes"}

    def create_one(record: Any) -> dict[str, Any]:
        body = fields_of(record)
        if "id" in {k.lower() for k in body}:
            raise errors.ApiError(
                400, "INVALID_FIELD", "Id field should not be specified in the sobject data."
            )
        return save_result(store.create(record_type(record), body, user)["Id"])

    def update_one(record: Any) -> dict[str, Any]:
        body = {k: v for k, v in fields_of(record).items() if k.lower() != "id"}
        record_id = next((v for k, v in record.items() if k.lower() == "id"), None)
        if not isinstance(record_id, str):
            raise errors.ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
        store.update(record_type(record), record_id, body, user)
        return save_result(store.get(record_type(record), record_id)["Id"])

    def delete_one(record_id: Any) -> dict[str, Any]:
        sobject = store.object_of(str(record_id))
        if sobject is None:
            raise errors.ApiError(400, "MALFORMED_ID", f"malformed id {record_id}", [])
        try:
            store.delete(sobject, str(record_id), user)
        except errors.ApiError as exc:
            if exc.code == "NOT_FOUND":
                raise errors.ApiError(
                    400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"
                ) from None
            raise
        return save_result(store.get(sobject, str(record_id), include_deleted=True)["Id"])

    def upserter(sobject: str, field_name: str, records: list[Any]) -> Item:
        kind = store.sobject(sobject)
        key = kind.field(field_name)
        if key is None or not key.external_id:
            raise errors.ApiError(
                400,
                "INVALID_FIELD",
                f"Field name provided, {field_name} is not an External ID or indexed field "
                f"for {kind.name}",
            )

        def key_of(record: Any) -> Any:
            if not isinstance(record, dict):
                return None
            return next((v for k, v in record.items() if k.lower() == key.name.lower()), None)

        # Salesforce refuses every record whose external id occurs twice in one call
        # (neither is inserted nor updated), rather than creating then updating.
        seen = Counter(_fold(key_of(r)) for r in records if key_of(r) is not None)
        repeated = {value for value, count in seen.items() if count > 1}

        def upsert_one(record: Any) -> dict[str, Any]:
            if record_type(record) != kind.name:
                raise errors.ApiError(400, "INVALID_TYPE", "All records must be of one type")
            body = fields_of(record)
            value = key_of(body)
            if value is None:
                raise errors.ApiError(
                    400, "MISSING_ARGUMENT", f"{key.name} not specified", [key.name]
                )
            if _fold(value) in repeated:
                raise errors.ApiError(
                    400,
                    "DUPLICATE_VALUE",
                    f"Duplicate external id specified: {value}",
                    [key.name],
                )
            try:
                saved, created = store.upsert(kind.name, key.name, value, body, user)
            except errors.MultipleMatches as many:
                raise errors.ApiError(
                    300,
                    "DUPLICATE_EXTERNAL_ID",
                    f"{key.name}: more than one record found for external id field: "
                    f"{many.record_ids}",
                    [key.name],
                ) from None
            return save_result(saved["Id"], created)

        return upsert_one

    def run(items: list[Any], one: Item, all_or_none: bool, item_type: type = dict) -> Response:
        if len(items) > org.settings.collection_limit:
            raise errors.ApiError(
                400,
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than "
                f"{org.settings.collection_limit} records into this call",
            )
        results: list[dict[str, Any]] = []
        savepoint = store.savepoint()
        failed = False
        try:
            for item in items:
                try:
                    if not isinstance(item, item_type):
                        raise errors.json_parser("each record must be a JSON object")
                    results.append(one(item))
                except errors.ApiError as exc:
                    failed = True
                    result: dict[str, Any] = {"success": False, "errors": [exc.save_error()]}
                    if isinstance(item, str):
                        result = {"id": item, **result}
                    results.append(result)
        finally:
            store.release(savepoint, rollback=failed and all_or_none)
        if failed and all_or_none:
            results = [
                {k: v for k, v in r.items() if k not in ("id", "created")}
                | {"success": False, "errors": [_ROLLED_BACK.save_error()]}
                if r["success"]
                else r
                for r in results
            ]
        return json_response(results)

    async def body_records(request: Request) -> tuple[list[Any], bool]:
        body = await json_object(request)
        records = body.get("records")
        if not isinstance(records, list):
            raise errors.json_parser("records must be an array")
        return records, bool(body.get("allOrNone", False))

    async def create(request: Request) -> Response:
        records, all_or_none = await body_records(request)
        return run(records, create_one, all_or_none)

    async def update(request: Request) -> Response:
        records, all_or_none = await body_records(request)
        return run(records, update_one, all_or_none)

    async def delete(request: Request) -> Response:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if not ids:
            raise errors.ApiError(400, "MISSING_ARGUMENT", "ids not specified")
        all_or_none = request.query_params.get("allOrNone", "false").lower() == "true"
        return run(ids, delete_one, all_or_none, str)

    async def upsert(request: Request) -> Response:
        params = request.path_params
        records, all_or_none = await body_records(request)
        one = upserter(params["sobject"], params["field"], records)
        return run(records, one, all_or_none)

    def retrieved(request: Request, ids: Any, fields: Any) -> Response:
        # GET|POST …/composite/sobjects/{SObject}: records in id order, null when absent
        kind = store.sobject(request.path_params["sobject"])
        if not ids or not fields:
            raise errors.ApiError(400, "MISSING_ARGUMENT", "ids and fields are required")
        if len(ids) > org.settings.collection_limit:
            raise errors.ApiError(400, "EXCEEDED_ID_LIMIT", "too many ids")
        names = []
        for name in fields:
            found = kind.field(str(name))
            if found is None:
                raise errors.invalid_field(f"No such column '{name}' on entity '{kind.name}'.")
            names.append(found.name)
        version = request.path_params["version"]
        out: list[dict[str, Any] | None] = []
        for record_id in ids:
            try:
                record = store.get(kind.name, str(record_id))
            except errors.ApiError:
                out.append(None)
                continue
            out.append(record_json(version, kind, record, names))
        return json_response(out)

    async def retrieve(request: Request) -> Response:
        query = request.query_params
        ids = [i for i in query.get("ids", "").split(",") if i]
        fields = [f for f in query.get("fields", "").split(",") if f]
        return retrieved(request, ids, fields)

    async def retrieve_posted(request: Request) -> Response:
        body = await json_object(request)
        return retrieved(request, body.get("ids"), body.get("fields"))

    return [
        *route(PREFIX, limit_info, POST=create, PATCH=update, DELETE=delete),
        *route(PREFIX + "/{sobject}", limit_info, GET=retrieve, POST=retrieve_posted),
        *route(PREFIX + "/{sobject}/{field}", limit_info, PATCH=upsert),
    ]


def _fold(value: Any) -> str:
    # External ids compare case-insensitively (the store matches them so too).
    return str(value).casefold()
