"""Loans (`/v1/loans`): list, get, create, patch, delete (TE-PM "Loans").

A loan needs ``external_id`` (its identity: a POST of a known one answers
``duplicate`` and updates it), an ``owner`` and a ``borrower``: an existing contact
addressed by ``{"id": …}`` (relationships are set by a unique attribute), or a contact
with everything a contact create needs, found or created through the contact rules
(de-duplication included). Lookup relationships (``loan_status`` ...)
are objects naming a value, as the collection's example sends them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
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

ATTRIBUTES = frozenset(
    {
        "external_id", "loan_number", "loan_amount", "interest_rate", "address", "address_2",
        "city", "state", "zip_code", "close_date", "application_date", "funded_date",
        "lien_position", "loan_term",
    }
)  # fmt: skip
LOOKUPS = ("loan_status", "loan_type", "loan_purpose", "loan_program")
PARTICIPANTS = ("borrower", "coborrower", "buyers_agent", "sellers_agent", "settlement_agent")
FILTERS = ("external_id", "loan_number", "internal_updated_at_start", "internal_updated_at_end")


@dataclass
class Loans:
    """The account's loans by id."""

    account: Account
    items: dict[int, Record] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 5001

    def reset(self) -> None:
        with self.lock:
            self.items.clear()
            self.next_id = 5001

    def write(self, body: Any, existing: Record | None) -> tuple[bool, Record]:
        if not isinstance(body, dict):
            raise TotalExpertError(400, "Malformed JSON: expected an object")
        allowed = ATTRIBUTES | set(LOOKUPS) | set(PARTICIPANTS) | {"owner", "custom"}
        unknown = set(body) - allowed - {"account_class"}
        if unknown:
            raise TotalExpertError(400, f"Invalid attribute(s): {', '.join(sorted(unknown))}")
        values = {k: v for k, v in body.items() if k in ATTRIBUTES}
        if existing is None and not str(values.get("external_id") or "").strip():
            raise TotalExpertError(422, "Missing required attribute(s): external_id")
        owner = contacts.find_user(body.get("owner")) if "owner" in body or not existing else None
        if ("owner" in body or not existing) and owner is None:
            raise missing_target("owner")
        if existing is None and not isinstance(body.get("borrower"), dict):
            raise missing_target("borrower")
        for name in LOOKUPS:
            if name in body:
                given = body[name]
                if not isinstance(given, dict) or not given.get(name):
                    raise missing_target(name)
                values[name] = str(given[name])
        if body.get("custom"):
            self.account.check_custom("loan", body["custom"])
            values["custom"] = {c["field_name"]: c.get("value") for c in body["custom"]}
        for role in PARTICIPANTS:
            given = body.get(role)
            if isinstance(given, dict) and "id" in given:
                # a relationship addressed by its unique id: the contact must exist
                try:
                    values[f"{role}_id"] = self.account.contact(given["id"])["id"]
                except TotalExpertError:
                    raise missing_target(role) from None
            elif isinstance(given, dict):
                person = {"owner": {"id": (owner or {}).get("id", 1)}, **given}
                values[f"{role}_id"] = self.account.post_contact(person)[1]["id"]
        now = self.account.clock()
        with self.lock:
            if existing is None:
                same = next(
                    (x for x in self.items.values() if x["external_id"] == values["external_id"]),
                    None,
                )
                if same is None:
                    record: Record = {"id": self.next_id, "internal_created_at": now, "custom": {}}
                    self.next_id += 1
                    self.items[record["id"]] = record
                    created = True
                else:
                    record, created = same, False
            else:
                record, created = existing, False
            custom = values.pop("custom", {})
            record.update(values)
            record["custom"] = {**(record.get("custom") or {}), **custom}
            if owner is not None:
                record["owner_id"] = owner["id"]
            record["internal_updated_at"] = now
            return created, record

    def get(self, loan_id: Any) -> Record:
        try:
            found = self.items.get(int(loan_id))
        except ValueError:
            found = None
        if found is None:
            raise not_found("Loan")
        return found


def render_loan(loan: Record) -> dict[str, Any]:
    out: dict[str, Any] = {name: loan.get(name) for name in sorted(ATTRIBUTES)}
    out.update({name: {name: loan[name]} if loan.get(name) else None for name in LOOKUPS})
    out.update(
        id=loan["id"],
        owner=contacts.find_user({"id": loan.get("owner_id")}),
        custom=[{"field_name": k, "value": v} for k, v in loan.get("custom", {}).items()],
        internal_created_at=contacts.te_time(loan["internal_created_at"]),
        internal_updated_at=contacts.te_time(loan["internal_updated_at"]),
    )
    for role in PARTICIPANTS:
        contact_id = loan.get(f"{role}_id")
        out[role] = {"id": contact_id} if contact_id else None
    return out


def routes(loans: Loans, wrap: Wrap) -> list[Route]:
    async def listing(request: Request) -> Response:
        wanted = paging.filters(request.query_params, FILTERS)
        rows = []
        for loan in sorted(loans.items.values(), key=lambda x: x["id"]):
            keep = all(
                str(loan.get(k)) == v
                for k, v in wanted.items()
                if not k.endswith(("_start", "_end"))
            )
            if "internal_updated_at_start" in wanted:
                since = contacts.parse_time(wanted["internal_updated_at_start"], "start")
                keep = keep and loan["internal_updated_at"] >= since
            if "internal_updated_at_end" in wanted:
                until = contacts.parse_time(wanted["internal_updated_at_end"], "end")
                keep = keep and int(loan["internal_updated_at"]) <= until
            if keep:
                rows.append(loan)
        return json_response(paging.page(rows, request.query_params, render_loan))

    async def get(request: Request) -> Response:
        return json_response(render_loan(loans.get(request.path_params["id"])))

    async def create(request: Request) -> Response:
        created, loan = loans.write(await json_body(request), None)
        url = location(request, f"/v1/loans/{loan['id']}")
        if created:
            return json_response({"created": url, "id": loan["id"]}, 201)
        return json_response({"duplicate": url, "id": loan["id"]}, 200)

    async def patch(request: Request) -> Response:
        _, loan = loans.write(await json_body(request), loans.get(request.path_params["id"]))
        url = location(request, f"/v1/loans/{loan['id']}")
        return json_response({"existing": url, "id": loan["id"]})

    async def delete(request: Request) -> Response:
        loan = loans.get(request.path_params["id"])
        with loans.lock:
            loans.items.pop(loan["id"], None)
        return json_response([])

    table: list[tuple[str, Handler, str]] = [
        ("/v1/loans", listing, "GET"),
        ("/v1/loans", create, "POST"),
        ("/v1/loans/{id}", get, "GET"),
        ("/v1/loans/{id}", patch, "PATCH"),
        ("/v1/loans/{id}", delete, "DELETE"),
    ]
    return [Route(path, wrap(fn), methods=[method]) for path, fn, method in table]
