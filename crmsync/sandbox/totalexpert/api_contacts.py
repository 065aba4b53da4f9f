"""Contact routes: list with filters, get, POST (create or `duplicate`), PATCH, DELETE."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.totalexpert import contacts, paging
from crmsync.sandbox.totalexpert.account import ENGAGEMENT_TYPES, Account
from crmsync.sandbox.totalexpert.bodies import json_body, location
from crmsync.sandbox.totalexpert.errors import TotalExpertError, json_response

Handler = Callable[[Request], Awaitable[Response]]
Wrap = Callable[[Handler], Handler]

EXACT = (
    "first_name", "last_name", "email", "external_id", "source", "phone_cell",
    "phone_home", "phone_office",
)  # fmt: skip
CONTAINS = ("first_name_contains", "last_name_contains", "email_contains")
OWNER = ("owner_id", "owner_email", "owner_username", "owner_external_id")
FILTERS = (
    *EXACT, *CONTAINS, *OWNER, "internal_updated_at_start", "internal_updated_at_end",
    "internal_created_at_start", "internal_created_at_end", "group_name", "archieved",
)  # fmt: skip
SORTS = ("id", "internal_updated_at", "internal_created_at", "first_name", "last_name", "email")


def _matches(contact: dict[str, Any], wanted: dict[str, str]) -> bool:
    for name, value in wanted.items():
        if name in EXACT and str(contact.get(name) or "").lower() != value.lower():
            return False
        if name in CONTAINS:
            if len(value) < 3:
                raise TotalExpertError(400, f"Filter '{name}' needs at least 3 characters")
            field = name.removesuffix("_contains")
            if value.lower() not in str(contact.get(field) or "").lower():
                return False
        if name in OWNER:
            owner = contacts.find_user({name.removeprefix("owner_"): value})
            if owner is None or owner["id"] != contact.get("owner_id"):
                return False
        if name.endswith(("_start", "_end")):
            stamp = contact[name.rsplit("_", 1)[0]]
            bound = contacts.parse_time(value, name)
            # both bounds are inclusive; TE stores whole seconds
            if (int(stamp) < bound) if name.endswith("_start") else (int(stamp) > bound):
                return False
        if name == "group_name" and value not in contact.get("contact_groups", []):
            return False
        if name == "archieved" and bool(contact.get("archived")) != (
            value.lower() in ("1", "true")
        ):
            return False
    return True


def routes(account: Account, wrap: Wrap) -> list[Route]:
    async def list_contacts(request: Request) -> Response:
        wanted = paging.filters(request.query_params, FILTERS)
        if "archieved" not in wanted:
            wanted["archieved"] = "0"
        rows = [c for c in list(account.contacts.values()) if _matches(c, wanted)]
        rows = paging.sort(rows, request.query_params, SORTS)
        return json_response(paging.page(rows, request.query_params, contacts.render))

    async def create(request: Request) -> Response:
        created, contact = account.post_contact(await json_body(request))
        url = location(request, f"/v1/contacts/{contact['id']}")
        if created:
            return json_response({"created": url, "id": contact["id"]}, 201)
        return json_response({"duplicate": url, "id": contact["id"]}, 200)

    async def get(request: Request) -> Response:
        return json_response(contacts.render(account.contact(request.path_params["id"])))

    async def patch(request: Request) -> Response:
        contact = account.patch_contact(request.path_params["id"], await json_body(request))
        url = location(request, f"/v1/contacts/{contact['id']}")
        return json_response({"existing": url, "id": contact["id"]})

    async def delete(request: Request) -> Response:
        account.delete_contact(request.path_params["id"])
        return json_response([])

    async def engagement(request: Request) -> Response:
        contact = account.contact(request.path_params["id"])
        events = sorted(
            (
                a
                for a in list(account.activities.values())
                if a["contact_id"] == contact["id"] and a["type"] in ENGAGEMENT_TYPES
            ),
            key=lambda a: a["id"],
        )
        totals = {kind: sum(1 for e in events if e["type"] == kind) for kind in ENGAGEMENT_TYPES}
        last = max((e["created_at"] for e in events), default=None)
        return json_response(
            {
                "contact_id": contact["id"],
                "totals": totals,
                "last_engaged_at": None if last is None else contacts.te_time(last),
                "events": [
                    {
                        "activity_id": e["id"],
                        "type": e["type"],
                        "title": e["title"],
                        "details": e["details"],
                        "occurred_at": contacts.te_time(e["created_at"]),
                    }
                    for e in events
                ],
            }
        )

    table: list[tuple[str, Handler, str]] = [
        ("/v1/contacts", list_contacts, "GET"),
        ("/v1/contacts", create, "POST"),
        ("/v1/contacts/{id}", get, "GET"),
        ("/v1/contacts/{id}", patch, "PATCH"),
        ("/v1/contacts/{id}", delete, "DELETE"),
        ("/v1/contacts/{id}/engagement", engagement, "GET"),
    ]
    return [Route(path, wrap(fn), methods=[method]) for path, fn, method in table]
