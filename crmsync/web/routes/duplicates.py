"""Possible duplicate contacts, side by side, to confirm (one person) or reject (two)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from crmsync.api.deps import Db
from crmsync.dedup import reviews
from crmsync.records.errors import RecordNotFound
from crmsync.records.service import get_record
from crmsync.web.guard import Reader, WebRoute, Writer
from crmsync.web.render import page, redirect
from crmsync.web.routes import UI_PREFIX

router = APIRouter(route_class=WebRoute, prefix=f"{UI_PREFIX}/duplicates", include_in_schema=False)
PAGE = 25
COMPARED = ("first_name", "last_name", "email", "phone", "company", "city", "owner", "source")


@router.get("")
def duplicates(
    request: Request,
    user: Reader,
    db: Db,
    status: Literal["possible", "confirmed", "rejected"] = "possible",
    cursor: Annotated[str | None, Query(max_length=80)] = None,
) -> Response:
    pairs, next_cursor = reviews.listing(db, user.workspace_id, status, cursor, PAGE)
    shown = []
    for pair in pairs:
        try:
            left = get_record(db, user.workspace_id, "contacts", uuid.UUID(pair.left_id))
            right = get_record(db, user.workspace_id, "contacts", uuid.UUID(pair.right_id))
        except RecordNotFound:  # merged or deleted since the scan
            continue
        shown.append({"pair": pair, "left": left, "right": right})
    return page(
        request,
        "duplicates.html",
        {"pairs": shown, "status": status, "next_cursor": next_cursor, "fields": COMPARED},
    )


@router.post("/decide")
def decide(
    user: Writer,
    db: Db,
    left_id: Annotated[uuid.UUID, Form()],
    right_id: Annotated[uuid.UUID, Form()],
    decision: Annotated[Literal["confirmed", "rejected"], Form()],
) -> Response:
    reviews.decide(db, user.workspace_id, left_id, right_id, decision)
    db.commit()
    said = "Confirmed: one person." if decision == "confirmed" else "Rejected: two people."
    return redirect(f"{UI_PREFIX}/duplicates", said)
