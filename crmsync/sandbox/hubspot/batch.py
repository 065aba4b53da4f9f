"""`/crm/v3/objects/{objectType}/batch/{create,read,update,upsert,archive}`.

At most 100 inputs. Invalid property values fail the whole batch (400). Missing
records in read/update answer 207 with an OBJECT_NOT_FOUND error listing their ids.
Batch create reports per-input errors (207) only when every input carries an
`objectWriteTraceId`; otherwise the first error fails the batch and nothing is made.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import partial
from itertools import repeat
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import HotHandler, json_or_none, json_response
from crmsync.sandbox.hubspot import errors
from crmsync.sandbox.hubspot.crm import HubSpotCrm
from crmsync.sandbox.hubspot.objects import (
    INVALID_JSON,
    PREFIXES,
    associate_inputs,
    body_of,
    check_associations,
    flag,
)
from crmsync.sandbox.hubspot.records import ObjectStore
from crmsync.sandbox.hubspot.upsert import upsert_batch
from crmsync.sandbox.timefmt import iso_ms

MAX_INPUTS = 100
UPSERT_SUFFIX = "/batch/upsert"
PREFIX_HEADS = tuple(p.removesuffix("{object_type}") for p in PREFIXES)
Handler = Callable[[ObjectStore, list[dict[str, Any]], Request], Coroutine[Any, Any, Response]]


def batch_answer(
    crm: HubSpotCrm, started: int, results: list[Any], problems: list[dict[str, Any]], ok: int
) -> Response:
    """`BatchResponse…` (status `ok`) or `…WithErrors` (207)."""
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_ms(started),
        "completedAt": iso_ms(crm.now_ms()),
    }
    if problems:
        body["numErrors"] = len(problems)
        body["errors"] = problems
        return json_response(body, status=207)
    return json_response(body, status=ok)


def missing_error(store: ObjectStore, ids: list[str]) -> dict[str, Any]:
    """The one error HubSpot reports for every id it could not find."""
    kind = store.spec.singular.upper()
    return errors.standard_error(
        "error",
        "OBJECT_NOT_FOUND",
        f"Could not get some {kind} objects, they may be deleted or not exist. "
        "Check that ids are valid.",
        ids=ids,
    )


def batch_routes(crm: HubSpotCrm) -> list[BaseRoute]:
    """The five batch endpoints."""

    async def create(
        store: ObjectStore, inputs: list[dict[str, Any]], request: Request
    ) -> Response:
        started = crm.now_ms()
        traced = all(i.get("objectWriteTraceId") for i in inputs)
        planned: list[tuple[dict[str, Any], dict[str, str]]] = []
        problems: list[dict[str, Any]] = []
        taken: set[str] = set()
        for item in inputs:
            clean, problem = crm.check(store, item.get("properties") or {}, creating=True)
            category = "VALIDATION_ERROR"
            if problem is None:
                clash = crm.conflict(store, clean) or _repeat(store, clean, taken)
                if clash is not None:
                    problem, category = clash, "CONFLICT"
            if problem is None:
                planned.append((item, clean))
                continue
            if not traced:
                if category == "CONFLICT":
                    raise errors.conflict(problem)
                raise errors.validation(problem)
            problems.append(
                errors.standard_error(
                    "error", category, problem, objectWriteTraceId=[str(item["objectWriteTraceId"])]
                )
            )
        for item, _clean in planned:
            check_associations(crm, store, item.get("associations"))
        results = []
        for item, clean in planned:
            record = crm.create(store, clean)
            associate_inputs(crm, store, record, item.get("associations"))
            results.append(store.render_stored(record))
        return batch_answer(crm, started, results, problems, ok=201)

    async def update(
        store: ObjectStore, inputs: list[dict[str, Any]], request: Request
    ) -> Response:
        started = crm.now_ms()
        planned = []
        missing = []
        ids = [str(item.get("id", "")).lower() for item in inputs]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            # HubSpot refuses a batch that writes one record twice (as batch upsert does)
            raise errors.validation(
                f"Duplicate IDs found in batch input: {repeated}. IDs must be unique"
            )
        for item in inputs:
            record_id = str(item.get("id", ""))
            record = store.lookup(record_id, item.get("idProperty"))
            properties = item.get("properties") or {}
            clean = crm.validated(store, properties, creating=False, current=record)
            if record is None:
                missing.append(record_id)
            else:
                planned.append((record, clean))
        results = []
        for record, clean in planned:
            crm.update(store, record, clean)
            results.append(store.render_stored(record))
        problems = [missing_error(store, missing)] if missing else []
        return batch_answer(crm, started, results, problems, ok=200)

    async def upsert(
        store: ObjectStore, inputs: list[dict[str, Any]], request: Request
    ) -> Response:
        started = crm.now_ms()
        return batch_answer(crm, started, upsert_batch(crm, store, inputs), [], ok=200)

    async def read(store: ObjectStore, inputs: list[dict[str, Any]], request: Request) -> Response:
        started = crm.now_ms()
        body = await body_of(request)
        archived = flag(request, "archived")
        wanted = body.get("properties") or None
        history = body.get("propertiesWithHistory") or None
        results, missing = [], []
        for item in inputs:
            record_id = str(item.get("id", ""))
            record = store.lookup(record_id, body.get("idProperty"))
            if archived:
                record = store.get(record_id, archived=True)
            if record is None:
                missing.append(record_id)
            else:
                results.append(store.render(record, wanted, history))
        problems = [missing_error(store, missing)] if missing else []
        return batch_answer(crm, started, results, problems, ok=200)

    async def archive(
        store: ObjectStore, inputs: list[dict[str, Any]], request: Request
    ) -> Response:
        for item in inputs:
            record = store.get(str(item.get("id", "")))
            if record is not None:
                crm.archive(store, record)
        return Response(status_code=204)

    actions: dict[str, Handler] = {
        "create": create,
        "update": update,
        "upsert": upsert,
        "read": read,
        "archive": archive,
    }

    async def batch(request: Request) -> Response:
        store = crm.store(request.path_params["object_type"])
        handler = actions.get(request.path_params["action"])
        if handler is None:
            return errors.error_response(404, "OBJECT_NOT_FOUND", "Not found")
        return await handler(store, batch_inputs(await body_of(request)), request)

    return [Route(p + "/batch/{action}", batch, methods=["POST"]) for p in PREFIXES]


def batch_inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The `inputs` of a batch body, or VALIDATION_ERROR."""
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(map(isinstance, inputs, repeat(dict))):
        raise errors.validation("inputs must be a list of objects")
    if len(inputs) > MAX_INPUTS:
        raise errors.validation(
            f"Batch input limit exceeded: {len(inputs)} inputs given, at most {MAX_INPUTS}",
            context={"maxInputs": [str(MAX_INPUTS)]},
        )
    return inputs


def upsert_route(crm: HubSpotCrm, path: str) -> HotHandler | None:
    """The batch upsert as a hot route (no router, no Request object): the bulk of
    sync traffic. None when `path` is not a batch upsert path."""
    if not path.endswith(UPSERT_SUFFIX):
        return None
    for head in PREFIX_HEADS:
        if path.startswith(head):
            object_type = path[len(head) : -len(UPSERT_SUFFIX)]
            if object_type and "/" not in object_type:
                return partial(_upsert, crm, object_type)
    return None


def _upsert(crm: HubSpotCrm, object_type: str, body: bytes) -> Response:
    store = crm.store(object_type)
    started = crm.now_ms()
    parsed = json_or_none(body)
    if not isinstance(parsed, dict):
        raise errors.validation(INVALID_JSON)
    results = upsert_batch(crm, store, batch_inputs(parsed))
    return batch_answer(crm, started, results, [], ok=200)


def _repeat(store: ObjectStore, clean: dict[str, str], taken: set[str]) -> str | None:
    """A conflict with an earlier input of the same batch (e.g. the same email twice)."""
    for name, value in clean.items():
        if value and store.is_unique(name):
            key = f"{name}:{value.lower()}"
            if key in taken:
                return f"Duplicate {name} {value!r} in batch input"
            taken.add(key)
    return None
