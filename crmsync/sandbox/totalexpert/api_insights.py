"""Insights (/v1/insights, /v1/insight-types): events about a contact, such as a rate
alert or a viewed listing, that show in its activity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.totalexpert import contacts, paging
from crmsync.sandbox.totalexpert.account import Account, Record
from crmsync.sandbox.totalexpert.api_contacts import Wrap
from crmsync.sandbox.totalexpert.bodies import json_body, location
from crmsync.sandbox.totalexpert.errors import TotalExpertError, json_response, missing_target

_TYPE_NAMES: dict[int, str] = {
    1: "Rate Alert",
    2: "Listing Viewed",
    3: "Application Started",
    4: "Milestone Reached",
}
INSIGHT_TYPES = tuple({"id": n, "name": name} for n, name in _TYPE_NAMES.items())


def render_insight(insight: Record) -> dict[str, Any]:
    type_id = next(n for n, name in _TYPE_NAMES.items() if name == insight["type"])
    return {
        "id": insight["id"],
        "type": {"id": type_id, "name": insight["type"]},
        "contact": {"id": insight["contact_id"]},
        "data": insight["data"],
        "insight_date": insight["insight_date"] or contacts.te_time(insight["created_at"]),
    }


def routes(account: Account, wrap: Wrap) -> list[Route]:
    async def list_types(request: Request) -> Response:
        return json_response(paging.page(list(INSIGHT_TYPES), request.query_params, dict))

    async def create(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, Mapping):
            raise TotalExpertError(400, "Malformed JSON: expected an object")
        contact = body.get("contact")
        kind = body.get("type")
        type_id = kind.get("id") if isinstance(kind, Mapping) else None
        if type_id not in _TYPE_NAMES:
            raise missing_target("type")
        if contacts.find_user(body.get("owner") or {"id": 1}) is None:
            raise missing_target("owner")
        data = body.get("data")
        insight = account.add_insight(
            contact.get("id") if isinstance(contact, Mapping) else -1,
            _TYPE_NAMES[type_id],
            data if isinstance(data, Mapping) else {},
            body.get("insight_date"),
        )
        url = location(request, f"/v1/insights/{insight['id']}")
        return json_response({"created": url, "id": insight["id"]}, 201)

    async def list_insights(request: Request) -> Response:
        rows = sorted(account.insights.values(), key=lambda i: i["id"])
        return json_response(paging.page(rows, request.query_params, render_insight))

    return [
        Route("/v1/insight-types", wrap(list_types), methods=["GET"]),
        Route("/v1/insights", wrap(list_insights), methods=["GET"]),
        Route("/v1/insights", wrap(create), methods=["POST"]),
    ]
