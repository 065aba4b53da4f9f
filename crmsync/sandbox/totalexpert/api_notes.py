"""Contact notes (/v1/contact-notes) and the read-only activity feed (/v1/activity)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.sandbox.totalexpert import contacts, paging
from crmsync.sandbox.totalexpert.account import Account, Record
from crmsync.sandbox.totalexpert.api_contacts import Handler, Wrap
from crmsync.sandbox.totalexpert.bodies import json_body, location
from crmsync.sandbox.totalexpert.errors import json_response
from crmsync.sandbox.totalexpert.note_types import NOTE_TYPES

NOTE_FILTERS = (
    "created_on_start", "created_on_end", "title", "notes", "is_private", "type_id",
    "title_contains", "notes_contains", "contact_id",
)  # fmt: skip
ACTIVITY_FILTERS = (
    "internal_created_at_start",
    "internal_created_at_end",
    "contact_id",
    "type",
    "owner_id",
)


def render_note(note: Record) -> dict[str, Any]:
    return {
        "id": note["id"],
        "title": note["title"],
        "note": note["note"],
        "type": {"id": note["type_id"], "name": NOTE_TYPES.get(note["type_id"], "Other")},
        "is_private": note["is_private"],
        "contact": {"id": note["contact_id"]},
        "owner": contacts.find_user({"id": note["owner_id"]}),
        "created_on": contacts.te_time(note["created_on"]),
        "updated_on": contacts.te_time(note["updated_on"]),
    }


def render_activity(activity: Record) -> dict[str, Any]:
    return {
        "id": activity["id"],
        "details": activity["details"],
        "owner_id": activity["owner_id"],
        "type": activity["type"],
        "title": activity["title"],
        "notes": activity["notes"],
        "note_id": activity["note_id"],
        "contact_id": activity["contact_id"],
        "created_at": contacts.te_time(activity["created_at"]),
    }


def _keep(row: Record, wanted: dict[str, str], stamp_field: str, fields: Sequence[str]) -> bool:
    for name, value in wanted.items():
        if name.endswith("_start") and int(row[stamp_field]) < contacts.parse_time(value, name):
            return False
        if name.endswith("_end") and int(row[stamp_field]) > contacts.parse_time(value, name):
            return False
        if name.endswith("_contains"):
            field = {"notes_contains": "note"}.get(name, name.removesuffix("_contains"))
            if value.lower() not in str(row.get(field) or "").lower():
                return False
        if name in fields and str(row.get(name)).lower() != value.lower():
            return False
    return True


def routes(account: Account, wrap: Wrap) -> list[Route]:
    async def list_notes(request: Request) -> Response:
        wanted = paging.filters(request.query_params, NOTE_FILTERS)
        if "notes" in wanted:
            wanted["note"] = wanted.pop("notes")
        fields = ("title", "note", "type_id", "contact_id", "is_private")
        rows = [n for n in list(account.notes.values()) if _keep(n, wanted, "created_on", fields)]
        return json_response(paging.page(rows, request.query_params, render_note))

    async def create_note(request: Request) -> Response:
        note = account.post_note(await json_body(request))
        url = location(request, f"/v1/contact-notes/{note['id']}")
        return json_response({"created": url, "id": note["id"]}, 201)

    async def get_note(request: Request) -> Response:
        return json_response(render_note(account.note(request.path_params["id"])))

    async def patch_note(request: Request) -> Response:
        account.patch_note(request.path_params["id"], await json_body(request))
        return json_response([])

    async def delete_note(request: Request) -> Response:
        account.delete_note(request.path_params["id"])
        return json_response([])

    async def list_activity(request: Request) -> Response:
        wanted = paging.filters(request.query_params, ACTIVITY_FILTERS)
        fields = ("contact_id", "type", "owner_id")
        rows = [
            a for a in list(account.activities.values()) if _keep(a, wanted, "created_at", fields)
        ]
        return json_response(paging.page(rows, request.query_params, render_activity))

    async def get_activity(request: Request) -> Response:
        activity = account.activities.get(int(request.path_params["id"]))
        if activity is None:
            return json_response({"error": "Activity not found"}, 404)
        return json_response(render_activity(activity))

    table: list[tuple[str, Handler, str]] = [
        ("/v1/contact-notes", list_notes, "GET"),
        ("/v1/contact-notes", create_note, "POST"),
        ("/v1/contact-notes/{id:int}", get_note, "GET"),
        ("/v1/contact-notes/{id:int}", patch_note, "PATCH"),
        ("/v1/contact-notes/{id:int}", delete_note, "DELETE"),
        ("/v1/activity", list_activity, "GET"),
        ("/v1/activity/{id:int}", get_activity, "GET"),
    ]
    return [Route(path, wrap(fn), methods=[method]) for path, fn, method in table]
