"""Marketing campaigns (HubSpot's Campaigns API, ``/marketing/v3/campaigns``).

A campaign is ``{id: <campaignGuid>, properties: {...}, createdAt, updatedAt,
businessUnits}``; its properties are ``hs_``-prefixed (``hs_name`` unique in the portal,
``hs_start_date``/``hs_end_date`` as ``YYYY-MM-DD``, ``hs_notes``, ``hs_audience``,
``hs_currency_code``, ``hs_campaign_status``, ``hs_budget_items_sum_amount``). The list
answers ``{total, results, paging: {next: {after}}}`` pages of ``limit`` (at most 100) and
returns the properties named in ``properties`` (all of them when none is named). Create
with ``POST {properties}`` (201); a second campaign of an existing name is refused.
State lives here, apart from the CRM objects.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.hubspot.errors import error_response

PROPERTIES = (
    "hs_name",
    "hs_start_date",
    "hs_end_date",
    "hs_notes",
    "hs_audience",
    "hs_currency_code",
    "hs_campaign_status",
    "hs_budget_items_sum_amount",
)
STATUSES = ("planned", "in_progress", "active", "paused", "completed")
MAX_LIMIT = 100


@dataclass
class Campaigns:
    """The portal's marketing campaigns, in creation order."""

    clock: Callable[[], float] = time.time
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.items.clear()

    def create(self, properties: Any) -> dict[str, Any]:
        """A campaign as the HubSpot UI would make it (for tests and demos)."""
        problem = _invalid(properties)
        if problem:
            raise ValueError(problem)
        with self.lock:
            name = str(properties["hs_name"]).strip()
            if any(c["properties"]["hs_name"].lower() == name.lower() for c in self.items.values()):
                raise ValueError(f"a campaign named {name!r} exists already")
            stamp = datetime.fromtimestamp(self.clock(), UTC).isoformat().replace("+00:00", "Z")
            props: dict[str, str | None] = dict.fromkeys(PROPERTIES)
            props.update({k: (None if v is None else str(v)) for k, v in properties.items()})
            props["hs_name"] = name
            props["hs_campaign_status"] = props["hs_campaign_status"] or "planned"
            guid = str(uuid.uuid4())
            campaign: dict[str, Any] = {
                "id": guid,
                "properties": props,
                "createdAt": stamp,
                "updatedAt": stamp,
                "businessUnits": [{"id": 0}],
            }
            self.items[guid] = campaign
            return campaign


def _invalid(properties: Any) -> str | None:
    if not isinstance(properties, dict):
        return "properties must be an object"
    unknown = sorted(set(properties) - set(PROPERTIES))
    if unknown:
        return f"unknown campaign properties: {', '.join(unknown)}"
    if not str(properties.get("hs_name") or "").strip():
        return "hs_name is required"
    for key in ("hs_start_date", "hs_end_date"):
        if properties.get(key):
            try:
                date.fromisoformat(str(properties[key]))
            except ValueError:
                return f"{key} must be a date as YYYY-MM-DD"
    status = properties.get("hs_campaign_status")
    if status is not None and status not in STATUSES:
        return f"hs_campaign_status must be one of {', '.join(STATUSES)}"
    return None


def _shown(campaign: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    if not wanted:
        return campaign
    props = campaign["properties"]
    return {**campaign, "properties": {k: props.get(k) for k in wanted if k in PROPERTIES}}


def _wanted(request: Request) -> list[str]:
    named = request.query_params.getlist("properties")
    return [p.strip() for item in named for p in item.split(",") if p.strip()]


def campaign_routes(state: Campaigns) -> list[Route]:
    async def list_campaigns(request: Request) -> Response:
        try:
            limit = min(int(request.query_params.get("limit", "50")), MAX_LIMIT)
            start = int(request.query_params.get("after", "0"))
        except ValueError:
            return error_response(400, "VALIDATION_ERROR", "limit and after are numbers")
        if limit < 1 or start < 0:
            return error_response(400, "VALIDATION_ERROR", "limit is 1 to 100, after >= 0")
        wanted = _wanted(request)
        with state.lock:
            rows = list(state.items.values())
        page = [_shown(c, wanted) for c in rows[start : start + limit]]
        body: dict[str, Any] = {"total": len(rows), "results": page}
        if start + limit < len(rows):
            body["paging"] = {"next": {"after": str(start + limit)}}
        return _json(body)

    async def get_campaign(request: Request) -> Response:
        with state.lock:
            found = state.items.get(request.path_params["guid"])
        if found is None:
            return error_response(404, "OBJECT_NOT_FOUND", "campaign not found")
        return _json(_shown(found, _wanted(request)))

    async def create_campaign(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return error_response(400, "VALIDATION_ERROR", "the body is not JSON")
        try:
            made = state.create(body.get("properties") if isinstance(body, dict) else None)
        except ValueError as problem:
            return error_response(400, "VALIDATION_ERROR", str(problem))
        return _json(made, 201)

    return [
        Route("/marketing/v3/campaigns", list_campaigns, methods=["GET"]),
        Route("/marketing/v3/campaigns", create_campaign, methods=["POST"]),
        Route("/marketing/v3/campaigns/{guid}", get_campaign, methods=["GET"]),
    ]


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
