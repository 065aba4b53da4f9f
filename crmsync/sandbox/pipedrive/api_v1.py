"""API v1 routes: records, search, archived lists, recents, *Fields, webhooks, users/me."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.base import read_json
from crmsync.sandbox.pipedrive import search
from crmsync.sandbox.pipedrive.company import Company
from crmsync.sandbox.pipedrive.crud import Handler, record_routes
from crmsync.sandbox.pipedrive.envelope import PipedriveError, ok
from crmsync.sandbox.pipedrive.fields import FIELD_TYPES
from crmsync.sandbox.pipedrive.kinds import (
    ACTIVITY,
    BY_FIELDS_PATH,
    BY_SINGULAR,
    DEAL,
    KINDS,
    LEAD,
    Kind,
)
from crmsync.sandbox.pipedrive.merge import MERGEABLE, merge
from crmsync.sandbox.pipedrive.pagination import offset_page
from crmsync.sandbox.pipedrive.render import USER, parse_rfc3339, v1, v1_time
from crmsync.sandbox.pipedrive.webhooks import WebhookRegistry

Wrap = Callable[[Handler], Handler]

_LIST_FILTERS = ("person_id", "org_id", "deal_id", "lead_id", "organization_id", "owner_id")
_FLAT_PAGINATION = (LEAD, ACTIVITY)  # their start/limit/more sit at additional_data level
_DEAL_STATUSES = ("open", "won", "lost", "deleted", "all_not_deleted")


def routes(company: Company, hooks: WebhookRegistry, wrap: Wrap) -> list[Route]:
    def kind_of(request: Request) -> Kind:
        return KINDS[request.scope["path"].split("/")[2]]

    def render(kind: Kind, record: dict[str, Any]) -> dict[str, Any]:
        return v1(kind, record, company.name_of)

    def page(kind: Kind, records: list[dict[str, Any]], request: Request) -> Response:
        chunk = offset_page(records, request.query_params)
        data = [render(kind, r) for r in chunk.items]
        if kind in _FLAT_PAGINATION:
            extra = {k: v for k, v in chunk.pagination().items() if k != "next_start"}
            return ok(data, additional_data=extra)
        return ok(data or None, additional_data={"pagination": chunk.pagination()})

    async def list_records(request: Request) -> Response:
        kind = kind_of(request)
        query = request.query_params
        filters = {}
        for name in _LIST_FILTERS:
            if query.get(name):
                try:
                    filters[name] = int(query[name])
                except ValueError:
                    raise PipedriveError(400, f"Invalid {name}") from None
        records = [r for r in company.filtered(kind, filters) if not r["is_archived"]]
        records = company.filters.apply(kind, query.get("filter_id"), records)
        if kind is DEAL:
            status = query.get("status", "all_not_deleted")
            if status not in _DEAL_STATUSES:
                raise PipedriveError(400, "Invalid status")
            if status == "deleted":
                records = [
                    r for r in company.listing(DEAL, include_deleted=True) if r["is_deleted"]
                ]
            elif status != "all_not_deleted":
                records = [r for r in records if r.get("status", "open") == status]
        if kind is LEAD and query.get("updated_since"):
            since = parse_rfc3339(query["updated_since"], "updated_since")
            records = [r for r in records if r["update_time"] >= since]
        if query.get("sort"):
            records = _sorted(records, query["sort"])
        return page(kind, records, request)

    async def list_archived(request: Request) -> Response:
        kind = kind_of(request)
        return page(kind, [r for r in company.listing(kind) if r["is_archived"]], request)

    async def find(request: Request) -> Response:
        kind = kind_of(request)
        hits = search.ranked(kind, company.listing(kind), request.query_params)
        chunk = offset_page(hits, request.query_params)
        data = search.results(kind, chunk.items, company.name_of)
        return ok(data, additional_data={"pagination": chunk.pagination()})

    async def recents(request: Request) -> Response:
        since_raw = request.query_params.get("since_timestamp")
        if not since_raw:
            raise PipedriveError(400, "since_timestamp is required")
        try:
            since = datetime.strptime(since_raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            raise PipedriveError(400, "since_timestamp must be YYYY-MM-DD HH:MM:SS") from None
        wanted = request.query_params.get("items")
        kinds = [BY_SINGULAR[i] for i in (wanted or "").split(",") if i in BY_SINGULAR]
        changed = [
            (r["update_time"], kind, r)
            for kind in (kinds or list(KINDS.values()))
            for r in company.listing(kind, include_deleted=True)
            if r["update_time"] >= since.timestamp()
        ]
        changed.sort(key=lambda c: (c[0], c[1].plural, str(c[2]["id"])))
        chunk = offset_page(changed, request.query_params)
        data = [
            {"item": k.singular, "id": r["id"], "data": render(k, r)} for _, k, r in chunk.items
        ]
        last = chunk.items[-1][0] if chunk.items else since.timestamp()
        block = {key: v for key, v in chunk.pagination().items() if key != "next_start"}
        return ok(
            data,
            additional_data={
                "since_timestamp": since_raw,
                "last_timestamp_on_page": v1_time(last),
                "pagination": block,
            },
        )

    async def list_fields(request: Request) -> Response:
        kind = BY_FIELDS_PATH[request.scope["path"].split("/")[2]]
        chunk = offset_page(company.fields.listing(kind), request.query_params)
        return ok(chunk.items, additional_data={"pagination": chunk.pagination()})

    async def create_field(request: Request) -> Response:
        kind = BY_FIELDS_PATH[request.scope["path"].split("/")[2]]
        body = await read_json(request)
        if not isinstance(body, dict) or not str(body.get("name") or "").strip():
            raise PipedriveError(400, "Field name must be given.")
        field_type = body.get("field_type")
        if field_type not in FIELD_TYPES:
            raise PipedriveError(400, f"Invalid field_type '{field_type}'")
        options = body.get("options") or []
        if field_type in ("enum", "set") and not options:
            raise PipedriveError(400, "Options must be given for enum and set fields.")
        created = company.fields.create(kind, str(body["name"]), str(field_type), list(options))
        return ok(created)

    async def list_webhooks(request: Request) -> Response:
        return ok([s.describe() for s in hooks.subscriptions.values()])

    async def add_webhook(request: Request) -> Response:
        sub = hooks.add(await read_json(request))
        return ok(sub.describe(), status=201)

    async def remove_webhook(request: Request) -> Response:
        try:
            webhook_id = int(request.path_params["id"])
        except ValueError:
            webhook_id = -1
        if not hooks.remove(webhook_id):
            raise PipedriveError(404, "Webhook not found")
        return ok(None)

    async def delete_many(request: Request) -> Response:
        kind = kind_of(request)
        raw = request.query_params.get("ids", "")
        ids = [part.strip() for part in raw.split(",") if part.strip()]
        if not ids or not all(i.isdigit() for i in ids):
            raise PipedriveError(400, "Parameter 'ids' must be a comma-separated list of ids")
        records = [company.find(kind, i) for i in ids]  # 404 before deleting any
        return ok({"id": [company.delete(kind, r["id"])["id"] for r in records]})

    async def merge_records(request: Request) -> Response:
        kind = kind_of(request)
        loser_id = request.path_params["id"]
        survivor = merge(company, kind, loser_id, await read_json(request))
        return ok(
            {**render(kind, survivor), "merge_what_id": company.find(kind, loser_id, True)["id"]}
        )

    async def me(request: Request) -> Response:
        host = str(request.base_url).rstrip("/")
        return ok({**USER, "company_id": 7001, "company_domain": "sandbox", "company_url": host})

    table: list[tuple[str, Handler, list[str]]] = [
        ("/v1/users/me", me, ["GET"]),
        ("/v1/recents", recents, ["GET"]),
        ("/v1/webhooks", list_webhooks, ["GET"]),
        ("/v1/webhooks", add_webhook, ["POST"]),
        ("/v1/webhooks/{id}", remove_webhook, ["DELETE"]),
    ]
    for path in BY_FIELDS_PATH:
        table += [(f"/v1/{path}", list_fields, ["GET"]), (f"/v1/{path}", create_field, ["POST"])]
    for kind in KINDS.values():
        base = f"/v1/{kind.plural}"
        if kind.searchable:
            table.append((f"{base}/search", find, ["GET"]))
        if kind in (DEAL, LEAD):
            table.append((f"{base}/archived", list_archived, ["GET"]))
        if kind.has_v2:  # persons, organizations, deals and activities delete in bulk
            table.append((base, delete_many, ["DELETE"]))
        if kind in MERGEABLE:
            table.append((f"{base}/{{id}}/merge", merge_records, ["PUT"]))
        table += record_routes(company, kind, 1, render, list_records)
    return [Route(path, wrap(fn), methods=methods) for path, fn, methods in table]


def _sorted(records: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """v1 `sort=field ASC, field2 DESC`: stable sorts, last key first."""
    for part in reversed([p.strip() for p in sort.split(",") if p.strip()]):
        name, _, direction = part.partition(" ")
        direction = direction.strip().upper() or "ASC"
        if direction not in ("ASC", "DESC") or not name.replace("_", "").isalnum():
            raise PipedriveError(400, f"Invalid sort '{part}'")
        records = sorted(records, key=_field_key(name), reverse=direction == "DESC")
    return records


def _field_key(name: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    """Sort key putting records without the field last."""
    return lambda record: (record.get(name) is None, record.get(name) or 0)
