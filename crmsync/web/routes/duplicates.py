"""Possible duplicate contacts, side by side, to confirm (one person) or reject (two)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from crmsync.dedup import reviews
from crmsync.records.errors import RecordNotFound
from crmsync.records.service import get_record
from crmsync.store.models import Contact, ReviewStatus
from crmsync.web import merging
from crmsync.web.deps import Db
from crmsync.web.guard import Merger, Reader, WebProblem, WebRoute, Writer, form_text
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
    status: ReviewStatus = ReviewStatus.POSSIBLE,
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


@router.get("/merge")
def merge_form(
    request: Request, user: Merger, db: Db, left: uuid.UUID, right: uuid.UUID
) -> Response:
    first = get_record(db, user.workspace_id, "contacts", left)
    second = get_record(db, user.workspace_id, "contacts", right)
    assert isinstance(first, Contact) and isinstance(second, Contact)
    context = {"left": first, "right": second, "choices": merging.choices(first, second)}
    return page(request, "merge.html", context)


@router.post("/merge")
async def merge_contacts(request: Request, user: Merger, db: Db) -> Response:
    """The field picker: the ``first`` and ``second`` contact, which is the ``survivor``,
    and ``pick:<field>`` = the id whose value the field keeps."""
    form = await request.form()
    try:
        pair = {uuid.UUID(form_text(form, "first")), uuid.UUID(form_text(form, "second"))}
        survivor = uuid.UUID(form_text(form, "survivor"))
        if survivor not in pair or len(pair) != 2:
            raise ValueError
        (other,) = pair - {survivor}
        picks = {
            key.removeprefix("pick:"): uuid.UUID(form_text(form, key))
            for key in form
            if key.startswith("pick:")
        }
    except ValueError:
        raise WebProblem(
            422, "first, second and pick:<field> are the two contacts' ids; survivor one of them"
        ) from None

    def apply() -> Contact:  # the database work off the event loop
        kept = merging.merge_picked(db, user.workspace_id, survivor, other, picks)
        db.commit()
        return kept

    kept = await run_in_threadpool(apply)
    return redirect(f"{UI_PREFIX}/contacts/{kept.id}", "Merged: one contact now.")


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
    said = (
        "Confirmed: one person." if decision == ReviewStatus.CONFIRMED else "Rejected: two people."
    )
    return redirect(f"{UI_PREFIX}/duplicates", said)
