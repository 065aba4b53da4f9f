"""Contact groups (`/v1/contact-groups`): list, get, create, patch, delete.

Groups are unique by ``group_name``; creating one as an admin needs an ``owner``.
Contacts join groups through their ``contact_groups`` relationship, which must name an
existing group (by ``group_name`` or ``id``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.totalexpert import contacts, paging
from crmsync.sandbox.totalexpert.account import Account, Record
from crmsync.sandbox.totalexpert.api_contacts import Handler, Wrap
from crmsync.sandbox.totalexpert.bodies import json_body, location
from crmsync.sandbox.totalexpert.errors import (
    TotalExpertError,
    json_response,
    missing_target,
    not_found,
)


def render_group(group: Record) -> dict[str, Any]:
    return {
        "id": group["id"],
        "group_name": group["group_name"],
        "user_editable": group["user_editable"],
        "owner": contacts.find_user({"id": group["owner_id"]}),
    }


def routes(account: Account, wrap: Wrap) -> list[Route]:
    def find(group_id: Any) -> Record:
        try:
            found = account.groups.get(int(group_id))
        except ValueError:
            found = None
        if found is None:
            raise not_found("Contact group")
        return found

    def checked(body: Any, creating: bool) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise TotalExpertError(400, "Malformed JSON: expected an object")
        values: dict[str, Any] = {}
        if "group_name" in body or creating:
            name = body.get("group_name")
            if not isinstance(name, str) or not name.strip():
                raise TotalExpertError(422, "Missing required attribute(s): group_name")
            values["group_name"] = name.strip()
        if "user_editable" in body:
            values["user_editable"] = str(body["user_editable"]).lower() in ("1", "true")
        if "owner" in body or creating:
            owner = contacts.find_user(body.get("owner"))
            if owner is None:
                raise missing_target("owner")
            values["owner_id"] = owner["id"]
        return values

    async def list_groups(request: Request) -> Response:
        rows = sorted(account.groups.values(), key=lambda g: g["id"])
        return json_response(paging.page(rows, request.query_params, render_group))

    async def get_group(request: Request) -> Response:
        return json_response(render_group(find(request.path_params["id"])))

    async def create_group(request: Request) -> Response:
        values = checked(await json_body(request), creating=True)
        with account.lock:
            same = next(
                (g for g in account.groups.values() if g["group_name"] == values["group_name"]),
                None,
            )
            if same is not None:  # unique by name: a POST of an existing one is a duplicate
                url = location(request, f"/v1/contact-groups/{same['id']}")
                return json_response({"duplicate": url, "id": same["id"]}, 200)
            group = {"id": account.next_id("group"), "user_editable": True, **values}
            account.groups[group["id"]] = group
        url = location(request, f"/v1/contact-groups/{group['id']}")
        return json_response({"created": url, "id": group["id"]}, 201)

    async def patch_group(request: Request) -> Response:
        group = find(request.path_params["id"])
        group.update(checked(await json_body(request), creating=False))
        url = location(request, f"/v1/contact-groups/{group['id']}")
        return json_response({"existing": url, "id": group["id"]})

    async def delete_group(request: Request) -> Response:
        group = find(request.path_params["id"])
        with account.lock:
            account.groups.pop(group["id"], None)
            for contact in account.contacts.values():
                names = contact.get("contact_groups") or []
                contact["contact_groups"] = [n for n in names if n != group["group_name"]]
        return json_response([])

    table: list[tuple[str, Handler, str]] = [
        ("/v1/contact-groups", list_groups, "GET"),
        ("/v1/contact-groups", create_group, "POST"),
        ("/v1/contact-groups/{id}", get_group, "GET"),
        ("/v1/contact-groups/{id}", patch_group, "PATCH"),
        ("/v1/contact-groups/{id}", delete_group, "DELETE"),
    ]
    return [Route(path, wrap(fn), methods=[method]) for path, fn, method in table]
