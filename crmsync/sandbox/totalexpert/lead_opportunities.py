"""Lead opportunities (`/v1/lead-opportunities`, TE-PM "Lead Opportunities (New)").

Create needs ``first_name``, ``last_name``, ``source`` and a ``phone`` or an ``email``
(else 400 with the collection's message); ``product.type`` and ``product.values`` go
together and ``product.values.loan_purpose`` is required with them. A create finds or
makes the contact (``contact_id`` in the answer). Ids are UUIDs, times RFC 3339, lists
25 a page by default, filterable by ``contact_id``/``user_id`` and sortable by
``created_at``, ``updated_at``, ``lead_stage``, ``loan_purpose``. A PATCH must carry
``contact_id``. An unknown id answers 404 ``{"message": ...}``.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox import timefmt
from crmsync.sandbox.totalexpert import paging
from crmsync.sandbox.totalexpert.account import Account, Record
from crmsync.sandbox.totalexpert.api_contacts import Handler, Wrap
from crmsync.sandbox.totalexpert.bodies import json_body
from crmsync.sandbox.totalexpert.errors import TotalExpertError, json_response

MISSING = (
    "Missing required fields. Must provide: first_name, last_name, source, "
    "and either phone or email"
)
SORTS = ("created_at", "updated_at", "lead_stage", "loan_purpose")
FILTERS = ("contact_id", "user_id")
FIELDS = (
    "first_name", "last_name", "email", "phone", "source", "referred_by",
    "utm_source", "utm_campaign", "utm_medium",
)  # fmt: skip
PAGE_SIZE = 25


class NotFoundMessage(TotalExpertError):
    """404 ``{"message": ...}``: this endpoint's not-found shape differs from the rest."""

    def body(self) -> dict[str, Any]:
        return {"message": self.message}


@dataclass
class LeadOpportunities:
    account: Account
    items: dict[str, Record] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.items.clear()

    def get(self, lead_id: str) -> Record:
        found = self.items.get(lead_id)
        if found is None:
            raise NotFoundMessage(404, f"Object with id '{lead_id}' not found")
        return found

    def create(self, body: Any) -> Record:
        if not isinstance(body, dict):
            raise TotalExpertError(400, "Malformed JSON: expected an object")
        given = {k: str(body[k]).strip() for k in FIELDS if body.get(k) not in (None, "")}
        if not all(given.get(k) for k in ("first_name", "last_name", "source")) or not (
            given.get("phone") or given.get("email")
        ):
            raise TotalExpertError(400, MISSING)
        product = _product(body.get("product"), required=False)
        user_id = _user_id(body)
        contact_id = body.get("contact_id")
        if contact_id is not None:
            self.account.contact(contact_id)  # 404 when it does not exist
        else:
            names = ("first_name", "last_name", "email", "source")
            person: dict[str, Any] = {k: given[k] for k in names if k in given}
            if "phone" in given:
                person["phone_cell"] = given["phone"]
            person["owner"] = {"id": user_id or 1}
            contact_id = self.account.post_contact(person)[1]["id"]
        now = self.account.clock()
        lead: Record = {
            "id": str(uuid.uuid4()),
            **given,
            "product": product,
            "stage": _stage(body.get("stage")),
            "assigned_user_id": user_id,
            "legacy_contact_id": int(contact_id),
            "created_at": now,
            "updated_at": now,
        }
        with self.lock:
            self.items[lead["id"]] = lead
        return lead

    def update(self, lead_id: str, body: Any) -> Record:
        lead = self.get(lead_id)
        if not isinstance(body, dict) or body.get("contact_id") is None:
            raise TotalExpertError(400, "contact_id is required")
        if int(body["contact_id"]) != lead["legacy_contact_id"]:
            raise TotalExpertError(400, "contact_id does not match the lead opportunity")
        with self.lock:
            if "product" in body:
                merged = _product(body["product"], required=False, current=lead.get("product"))
                lead["product"] = merged
            if "stage" in body:
                lead["stage"] = _stage(body["stage"])
            if "assigned_user_id" in body or "assigned_user" in body:
                lead["assigned_user_id"] = _user_id(body)
            lead["updated_at"] = max(self.account.clock(), lead["updated_at"])
        return lead


def _user_id(body: dict[str, Any]) -> int | None:
    raw = body.get("assigned_user_id")
    if raw is None and isinstance(body.get("assigned_user"), dict):
        raw = body["assigned_user"].get("user_id")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise TotalExpertError(400, "assigned_user_id must be an integer")
    return raw


def _stage(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("id"):
        raise TotalExpertError(400, "stage needs an id")
    return {"id": str(raw["id"]), "name": raw.get("name")}


def _product(raw: Any, required: bool, current: Any = None) -> dict[str, Any] | None:
    if raw is None:
        return current
    if not isinstance(raw, dict) or not raw.get("type") or not isinstance(raw.get("values"), dict):
        raise TotalExpertError(400, "product.type and product.values must be provided together")
    values = {**((current or {}).get("values") or {}), **raw["values"]}
    if not values.get("loan_purpose"):
        raise TotalExpertError(400, "product.values.loan_purpose is required")
    return {"type": raw["type"], "values": values}


def render(lead: Record) -> dict[str, Any]:
    out = {k: lead.get(k) for k in FIELDS}
    out.update(
        id=lead["id"],
        stage=lead["stage"],
        product=lead["product"],
        source={"id": None, "display_name": lead.get("source")},
        assigned_user_id=lead["assigned_user_id"],
        legacy_contact_id=lead["legacy_contact_id"],
        created_at=timefmt.iso_ms(int(lead["created_at"]) * 1000)[:19] + "Z",
        updated_at=timefmt.iso_ms(int(lead["updated_at"]) * 1000)[:19] + "Z",
    )
    return out


def _sort_value(lead: Record, name: str) -> Any:
    if name == "lead_stage":
        return str((lead.get("stage") or {}).get("name") or "")
    if name == "loan_purpose":
        return str(((lead.get("product") or {}).get("values") or {}).get("loan_purpose") or "")
    return lead[name]


def routes(leads: LeadOpportunities, wrap: Wrap) -> list[Route]:
    async def listing(request: Request) -> Response:
        query = request.query_params
        wanted = paging.filters(query, FILTERS)
        rows = [
            lead
            for lead in leads.items.values()
            if wanted.get("contact_id", str(lead["legacy_contact_id"]))
            == str(lead["legacy_contact_id"])
            and wanted.get("user_id", str(lead["assigned_user_id"]))
            == str(lead["assigned_user_id"])
        ]
        raw_sort = (query.get("sort") or "created_at").split(",")[0].strip().lower()
        name = raw_sort.lstrip("-")
        if name not in SORTS:
            raise TotalExpertError(400, f"Invalid sort field '{name}'")
        rows.sort(key=lambda lead: _sort_value(lead, name), reverse=raw_sort.startswith("-"))
        params = dict(query)
        params.setdefault("page[size]", str(PAGE_SIZE))
        return json_response(paging.page(rows, params, render))

    async def get(request: Request) -> Response:
        return json_response(render(leads.get(request.path_params["id"])))

    async def create(request: Request) -> Response:
        lead = leads.create(await json_body(request))
        return json_response({"id": lead["id"], "contact_id": lead["legacy_contact_id"]}, 201)

    async def patch(request: Request) -> Response:
        lead = leads.update(request.path_params["id"], await json_body(request))
        return json_response(render(lead))

    table: list[tuple[str, Handler, str]] = [
        ("/v1/lead-opportunities", listing, "GET"),
        ("/v1/lead-opportunities", create, "POST"),
        ("/v1/lead-opportunities/{id}", get, "GET"),
        ("/v1/lead-opportunities/{id}", patch, "PATCH"),
    ]
    return [Route(path, wrap(fn), methods=[method]) for path, fn, method in table]
