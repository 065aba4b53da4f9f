"""API v2 routes (persons, organizations, deals, activities): cursor paging, updated_since."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.pipedrive import search
from crmsync.sandbox.pipedrive.api_v1 import Wrap
from crmsync.sandbox.pipedrive.company import Company
from crmsync.sandbox.pipedrive.crud import record_routes
from crmsync.sandbox.pipedrive.envelope import PipedriveError, ok
from crmsync.sandbox.pipedrive.kinds import DEAL, KINDS, Kind
from crmsync.sandbox.pipedrive.pagination import cursor_page
from crmsync.sandbox.pipedrive.render import parse_rfc3339, v2
from crmsync.sandbox.pipedrive.store import Record

_FILTERS = ("owner_id", "org_id", "person_id", "deal_id")
_SORTS = ("id", "update_time", "add_time")
_STATUSES = ("open", "won", "lost", "deleted")
MAX_IDS = 100
MAX_CUSTOM_KEYS = 15


def _time(query: Mapping[str, str], name: str) -> float | None:
    raw = query.get(name)
    return parse_rfc3339(raw, name) if raw else None


def _custom_keys(query: Mapping[str, str]) -> set[str] | None:
    """The `custom_fields` keys a list asks for (at most 15), or None for all."""
    raw = query.get("custom_fields")
    if raw is None:
        return None
    keys = {k.strip() for k in raw.split(",") if k.strip()}
    if len(keys) > MAX_CUSTOM_KEYS:
        raise PipedriveError(400, f"'custom_fields' takes at most {MAX_CUSTOM_KEYS} keys")
    return keys


def _select(company: Company, kind: Kind, query: Mapping[str, str]) -> list[Record]:
    """Records matching the list filters of a v2 list call (not yet sorted)."""
    records = company.listing(kind, include_deleted=True)
    status = query.get("status")
    if kind is DEAL and status:
        wanted = status.split(",")
        if any(s not in _STATUSES for s in wanted):
            raise PipedriveError(400, "Invalid status; allowed: " + ", ".join(_STATUSES))
        records = [
            r
            for r in records
            if ("deleted" if r["is_deleted"] else r.get("status", "open")) in wanted
        ]
    else:
        records = [r for r in records if not r["is_deleted"]]
    records = [r for r in records if not r["is_archived"]]
    for name in _FILTERS:
        if query.get(name):
            try:
                value = int(query[name])
            except ValueError:
                raise PipedriveError(400, f"'{name}' must be an integer") from None
            records = [r for r in records if r.get(name) == value]
    if query.get("ids"):
        ids = query["ids"].split(",")
        if len(ids) > MAX_IDS:
            raise PipedriveError(400, f"'ids' takes at most {MAX_IDS} ids")
        wanted_ids = {int(i) for i in ids if i.strip().isdigit()}
        records = [r for r in records if r["id"] in wanted_ids]
    records = company.filters.apply(kind, query.get("filter_id"), records)
    since, until = _time(query, "updated_since"), _time(query, "updated_until")
    if since is not None:
        records = [r for r in records if r["update_time"] >= since]
    if until is not None:
        records = [r for r in records if r["update_time"] < until]
    return records


def routes(company: Company, wrap: Wrap) -> list[Route]:
    def kind_of(request: Request) -> Kind:
        return KINDS[request.scope["path"].split("/")[3]]

    async def list_records(request: Request) -> Response:
        kind, query = kind_of(request), request.query_params
        sort_by = query.get("sort_by", "id")
        direction = query.get("sort_direction", "asc")
        if sort_by not in _SORTS or direction not in ("asc", "desc"):
            raise PipedriveError(400, "Invalid sort_by or sort_direction")
        sign = 1 if direction == "asc" else -1
        records = _select(company, kind, query)
        positions = [[sign * r[sort_by], sign * r["id"]] for r in records]
        order = sorted(range(len(records)), key=lambda n: positions[n])
        chunk, next_cursor = cursor_page(
            [records[n] for n in order], [positions[n] for n in order], query
        )
        data = [v2(kind, r) for r in chunk]
        wanted = _custom_keys(query)
        if wanted is not None:
            for item in data:
                item["custom_fields"] = {
                    k: v for k, v in item["custom_fields"].items() if k in wanted
                }
        return ok(data, additional_data={"next_cursor": next_cursor})

    async def find(request: Request) -> Response:
        kind, query = kind_of(request), request.query_params
        hits = search.ranked(kind, company.listing(kind), query)
        positions = [[-s, r["id"]] for s, r in hits]
        chunk, next_cursor = cursor_page(hits, positions, query)
        data = search.results(kind, chunk, company.name_of)
        return ok(data, additional_data={"next_cursor": next_cursor})

    table: list[tuple[str, Any, list[str]]] = []
    for kind in KINDS.values():
        if not kind.has_v2:
            continue
        base = f"/api/v2/{kind.plural}"
        if kind.searchable:
            table.append((f"{base}/search", find, ["GET"]))
        table += record_routes(company, kind, 2, v2, list_records)
    return [Route(path, wrap(fn), methods=methods) for path, fn, methods in table]
