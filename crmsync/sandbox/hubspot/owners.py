"""The portal's owners (`/crm/v3/owners`) and the owner check of record writes.

``hubspot_owner_id`` (and any property whose name ends in ``_owner_id``) must hold the
id of an owner of the portal; anything else is refused with INVALID_OWNER_ID, as
HubSpot refuses an unknown owner rather than storing it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import json_response
from crmsync.sandbox.hubspot import errors
from crmsync.sandbox.timefmt import iso_ms

# (owner id, user id, email, first name, last name, archived)
OWNERS = (
    ("101", 9001, "owner@sandbox.example", "Sandbox", "Owner", False),
    ("102", 9002, "agent@sandbox.example", "Sandbox", "Agent", False),
    ("103", 9003, "former@sandbox.example", "Former", "Agent", True),
)


def owner_json(owner: tuple[str, int, str, str, str, bool]) -> dict[str, Any]:
    """A `PublicOwner`."""
    owner_id, user_id, email, first, last, archived = owner
    stamp = iso_ms(0)
    return {
        "id": owner_id,
        "email": email,
        "firstName": first,
        "lastName": last,
        "userId": None if archived else user_id,
        "userIdIncludingInactive": user_id,
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": archived,
        "teams": [],
        "type": "PERSON",
    }


ACTIVE_OWNER_IDS = frozenset(o[0] for o in OWNERS if not o[5])


def owner_routes() -> list[BaseRoute]:
    """``GET /crm/v3/owners`` (``email``, ``archived``, ``limit``, ``after``) and one owner
    (``idProperty=id|userId``)."""

    async def listing(request: Request) -> Response:
        query = request.query_params
        archived = query.get("archived", "false").lower() == "true"
        email = query.get("email")
        rows = [
            owner_json(o)
            for o in OWNERS
            if o[5] == archived and (email is None or o[2].lower() == email.lower())
        ]
        try:
            after = int(query.get("after", "0"))
            limit = min(int(query.get("limit", "100")), 500)
        except ValueError:
            raise errors.validation("limit and after must be integers") from None
        page = rows[after : after + limit]
        body: dict[str, Any] = {"results": page}
        if after + limit < len(rows):
            body["paging"] = {"next": {"after": str(after + limit)}}
        return json_response(body)

    async def one(request: Request) -> Response:
        wanted = request.path_params["owner_id"]
        by_user = request.query_params.get("idProperty") == "userId"
        archived = request.query_params.get("archived", "false").lower() == "true"
        for owner in OWNERS:
            key = str(owner[1]) if by_user else owner[0]
            if key == wanted and owner[5] == archived:
                return json_response(owner_json(owner))
        return errors.error_response(404, "OBJECT_NOT_FOUND", f"Unable to find owner {wanted}")

    return [
        Route("/crm/v3/owners", listing, methods=["GET"]),
        Route("/crm/v3/owners/", listing, methods=["GET"]),
        Route("/crm/v3/owners/{owner_id}", one, methods=["GET"]),
    ]
