"""Composite resources: ``composite`` (up to 25 subrequests in one call, later ones
naming earlier results as ``@{referenceId.field}``) and ``composite/tree/{SObject}``
(a record tree with nested child records, saved all or nothing).

Subrequests run through the org's own REST routes, so each answers exactly as the
single call would. With ``allOrNone`` a failed subrequest rolls every write back and
the others answer PROCESSING_HALTED; without it, only subrequests that reference a
failed one are halted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, Router

from crmsync.sandbox.base import json_response
from crmsync.sandbox.salesforce import errors
from crmsync.sandbox.salesforce.endpoint import LimitInfo, json_object, route
from crmsync.sandbox.salesforce.org import Org
from crmsync.sandbox.salesforce.schema import SObjectType

PREFIX = "/services/data/v{version}/composite"
MAX_SUBREQUESTS = 25
MAX_TREE_RECORDS = 200
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([A-Za-z0-9_.\[\]]+)\}")
_HALTED = "The transaction was rolled back since another operation in the same transaction failed."


def composite_routes(
    org: Org, limit_info: LimitInfo, data_routes: Callable[[], list[BaseRoute]]
) -> list[Route]:
    """Routes of ``composite`` and ``composite/tree``; subrequests go to `data_routes`."""
    store = org.store
    router: list[Router] = []

    def inner() -> httpx.AsyncClient:
        if not router:
            router.append(Router(routes=data_routes()))
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=router[0]), base_url="http://composite"
        )

    async def composite(request: Request) -> Response:
        body = await json_object(request)
        items = body.get("compositeRequest")
        if not isinstance(items, list) or not items:
            raise errors.json_parser("compositeRequest must be a non-empty array")
        if len(items) > MAX_SUBREQUESTS:
            raise errors.ApiError(
                400, "LIMIT_EXCEEDED", f"Composite requests take at most {MAX_SUBREQUESTS}"
            )
        all_or_none = bool(body.get("allOrNone", False))
        results: dict[str, Any] = {}
        answers: list[dict[str, Any]] = []
        savepoint = store.savepoint()
        failed = False
        async with inner() as client:
            for item in items:
                ref = item.get("referenceId") if isinstance(item, dict) else None
                if not isinstance(ref, str) or not ref or ref in results:
                    raise errors.json_parser("every subrequest needs a unique referenceId")
                if failed and all_or_none:
                    answers.append(_halted(ref))
                    continue
                try:
                    url = _resolve(str(item.get("url", "")), results)
                    sub_body = _resolve_json(item.get("body"), results)
                except KeyError as missing:
                    answers.append(_halted(ref, f"Invalid reference specified. {missing.args[0]}"))
                    results[ref] = None
                    failed = True
                    continue
                answer = await client.request(
                    str(item.get("method", "GET")).upper(),
                    url,
                    content=None if sub_body is None else orjson.dumps(sub_body),
                    headers={"Content-Type": "application/json"},
                )
                parsed = orjson.loads(answer.content) if answer.content else None
                results[ref] = parsed if answer.status_code < 400 else None
                failed = failed or answer.status_code >= 400
                headers = (
                    {"Location": answer.headers["location"]} if "location" in answer.headers else {}
                )
                answers.append(
                    {
                        "body": parsed,
                        "httpHeaders": headers,
                        "httpStatusCode": answer.status_code,
                        "referenceId": ref,
                    }
                )
        rollback = failed and all_or_none
        store.release(savepoint, rollback=rollback)
        if rollback:
            answers = [
                a if a["httpStatusCode"] >= 400 else _halted(a["referenceId"]) for a in answers
            ]
        return json_response({"compositeResponse": answers})

    async def tree(request: Request) -> Response:
        kind = store.sobject(request.path_params["sobject"])
        body = await json_object(request)
        records = body.get("records")
        if not isinstance(records, list) or not records:
            raise errors.json_parser("records must be a non-empty array")
        if _count(records) > MAX_TREE_RECORDS:
            raise errors.ApiError(
                400, "LIMIT_EXCEEDED", f"a tree holds at most {MAX_TREE_RECORDS} records"
            )
        saved: list[dict[str, Any]] = []
        seen: set[str] = set()
        savepoint = store.savepoint()
        try:
            for record in records:
                _save_tree(org, kind, record, None, saved, seen, depth=1)
        except _TreeError as failure:
            store.release(savepoint, rollback=True)
            result = {"referenceId": failure.reference, "errors": [failure.error.save_error()]}
            return json_response({"hasErrors": True, "results": [result]}, status=400)
        store.release(savepoint, rollback=False)
        return json_response({"hasErrors": False, "results": saved}, status=201)

    return [
        *route(PREFIX, limit_info, POST=composite),
        *route(PREFIX + "/tree/{sobject}", limit_info, POST=tree),
    ]


class _TreeError(Exception):
    def __init__(self, reference: str, error: errors.ApiError) -> None:
        super().__init__(error.message)
        self.reference = reference
        self.error = error


def _save_tree(
    org: Org,
    kind: SObjectType,
    record: Any,
    parent: tuple[str, str] | None,
    saved: list[dict[str, Any]],
    seen: set[str],
    depth: int,
) -> None:
    """Create `record` (with `parent` = (lookup field, parent id)), then its children."""
    attributes = record.get("attributes") if isinstance(record, dict) else None
    reference = attributes.get("referenceId") if isinstance(attributes, dict) else None
    if not isinstance(reference, str) or not reference or reference in seen:
        raise _TreeError(
            str(reference),
            errors.ApiError(400, "INVALID_INPUT", "every record needs a unique referenceId"),
        )
    seen.add(reference)
    assert isinstance(attributes, dict)  # a referenceId was found in it
    if attributes.get("type") != kind.name:
        raise _TreeError(reference, errors.invalid_type(str(attributes.get("type"))))
    if depth > 5:
        raise _TreeError(reference, errors.ApiError(400, "INVALID_INPUT", "tree depth over 5"))
    fields: dict[str, Any] = {}
    nested: list[tuple[str, Any]] = []
    for name, value in record.items():
        if name == "attributes":
            continue
        if isinstance(value, dict) and "records" in value:
            nested.append((name, value["records"]))
        else:
            fields[name] = value
    if parent is not None:
        fields[parent[0]] = parent[1]
    try:
        created = org.store.create(kind.name, fields, org.api_user)
    except errors.ApiError as exc:
        raise _TreeError(reference, exc) from None
    saved.append({"referenceId": reference, "id": created["Id"]})
    for relationship, children in nested:
        child_kind, lookup = _child_relationship(org, kind, relationship, reference)
        for child in children if isinstance(children, list) else []:
            _save_tree(org, child_kind, child, (lookup, created["Id"]), saved, seen, depth + 1)


def _child_relationship(
    org: Org, parent: SObjectType, name: str, reference: str
) -> tuple[SObjectType, str]:
    for kind in org.store.objects.values():
        if kind.label_plural.lower() != name.lower():
            continue
        for f in kind.fields:
            if f.type == "reference" and f.reference_to == (parent.name,):
                return kind, f.name
    raise _TreeError(
        reference,
        errors.ApiError(400, "INVALID_FIELD", f"No such relationship {name} on {parent.name}"),
    )


def _count(records: list[Any]) -> int:
    total = 0
    for record in records:
        total += 1
        if isinstance(record, dict):
            for value in record.values():
                if isinstance(value, dict) and isinstance(value.get("records"), list):
                    total += _count(value["records"])
    return total


def _halted(reference: str, message: str = _HALTED) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference,
    }


def _lookup(results: dict[str, Any], reference: str, path: str) -> Any:
    if results.get(reference) is None:
        raise KeyError(f"No value for {reference}.{path} found in {reference}")
    value: Any = results[reference]
    for part in re.split(r"\.|\[(\d+)\]", path):
        if part in (None, ""):
            continue
        try:
            value = value[int(part)] if part.isdigit() else value[part]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"No value for {reference}.{path} found in {reference}") from None
    return value


def _resolve(text: str, results: dict[str, Any]) -> str:
    return _REFERENCE.sub(lambda m: str(_lookup(results, m.group(1), m.group(2))), text)


def _resolve_json(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:  # a whole-value reference keeps the referenced JSON type
            return _lookup(results, whole.group(1), whole.group(2))
        return _resolve(value, results)
    if isinstance(value, dict):
        return {k: _resolve_json(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_json(v, results) for v in value]
    return value
