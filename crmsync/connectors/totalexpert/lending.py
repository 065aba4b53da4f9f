"""Total Expert loans (crmsync deals) and lead opportunities (crmsync leads).

Both hang on a contact, which the mapping gives as ``contact_id`` (Total Expert's
contact id, translated from crmsync's by ``sync.references``):

- a **loan** names its contact as ``borrower: {id}`` (relationships are addressed by a
  unique attribute). Its identity is ``external_id``; when the mapping gives none, the
  loan number is used, so a repeated create updates the same loan. Total Expert requires
  an owner: without one in the payload, the borrower's owner owns the loan.
- a **lead opportunity** takes ``contact_id`` on create, and every PATCH must repeat it
  (Total Expert refuses one that does not match); reads show it as
  ``legacy_contact_id``, which comes back here as ``contact_id``. Its stage is
  ``stage: {id}``; the mapping writes ``stage.id``. Its agent is ``assigned_user_id``, a
  Total Expert user id (the mapping's owner transform turns an e-mail into one).

Polling: loans by ``internal_updated_at_start``; lead opportunities have no time
filter, so they are read newest first (``sort=-updated_at``) down to the cursor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crmsync.connectors.base import ChangePage, Payload, RemoteField, RemoteRecord, UpsertResult
from crmsync.connectors.errors import InvalidRecord
from crmsync.connectors.http.client import ConnectorHttp
from crmsync.connectors.totalexpert.mappers import parse_time, te_time

__all__ = ["LENDING", "LENDING_FIELDS", "Lending"]

REFERENCE = "contact_id"
AGENT = "assigned_user_id"  # a lead opportunity's user
DEFAULT_SOURCE = "crmsync"
PAGE = 100


@dataclass(frozen=True, slots=True)
class LendingObject:
    path: str
    modified: str  # the property holding the record's modified time


LENDING: Mapping[str, LendingObject] = {
    "deals": LendingObject("/v1/loans", "internal_updated_at"),
    "leads": LendingObject("/v1/lead-opportunities", "updated_at"),
}


def _fields(*names: tuple[str, str]) -> tuple[RemoteField, ...]:
    return tuple(
        RemoteField(name, name.replace("_", " ").capitalize(), kind) for name, kind in names
    )


# the writable properties, for describe (Total Expert has no schema endpoint for them)
LENDING_FIELDS: Mapping[str, tuple[RemoteField, ...]] = {
    "deals": _fields(
        ("external_id", "string"),
        ("loan_number", "string"),
        ("loan_amount", "number"),
        ("interest_rate", "number"),
        ("close_date", "datetime"),
        ("loan_status.loan_status", "string"),
        ("owner.external_id", "string"),
        (REFERENCE, "reference"),
    ),
    "leads": _fields(
        ("first_name", "string"),
        ("last_name", "string"),
        ("email", "string"),
        ("phone", "string"),
        ("source", "string"),
        ("stage.id", "string"),
        (AGENT, "number"),
        (REFERENCE, "reference"),
    ),
}


def _nest(payload: Payload) -> dict[str, Any]:
    """``a.b`` keys as nested objects (``stage.id`` -> ``{"stage": {"id": …}}``)."""
    body: dict[str, Any] = {}
    for name, value in payload.items():
        if name == "id":
            continue
        head, dot, rest = name.partition(".")
        if dot:
            body.setdefault(head, {})[rest] = value
        else:
            body[name] = te_time(value) if isinstance(value, datetime) else value
    return body


def _contact(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        raise InvalidRecord(f"contact_id {value!r} is not a Total Expert contact id") from None


def _user_id(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise InvalidRecord(f"{AGENT} {value!r} is not a Total Expert user id") from None


def to_record(object_type: str, raw: Mapping[str, Any]) -> RemoteRecord:
    """A loan or lead opportunity as a flat remote record (``contact_id`` included)."""
    properties: dict[str, Any] = {}
    for name, value in raw.items():
        if name == "id":
            continue
        if isinstance(value, Mapping):
            for key, inner in value.items():
                properties[f"{name}.{key}"] = inner
        else:
            properties[name] = value
    contact = (
        (raw.get("borrower") or {}).get("id")
        if object_type == "deals"
        else raw.get("legacy_contact_id")
    )
    properties[REFERENCE] = contact
    return RemoteRecord(
        remote_id=str(raw["id"]),
        properties=properties,
        modified_at=parse_time(raw.get(LENDING[object_type].modified)),
    )


class Lending:
    """Writes and reads of loans and lead opportunities."""

    def __init__(self, http: ConnectorHttp):
        self.http = http

    # --- writes --------------------------------------------------------------------------

    def upsert(self, object_type: str, payload: Payload) -> UpsertResult:
        if object_type == "deals":
            return self._loan(payload)
        return self._lead(payload)

    def _loan(self, payload: Payload) -> UpsertResult:
        body = _nest({k: v for k, v in payload.items() if k != REFERENCE})
        contact = _contact(payload.get(REFERENCE))
        if contact is not None:
            body["borrower"] = {"id": contact}
        remote_id = str(payload["id"]) if payload.get("id") else None
        if remote_id is not None:
            self.http.patch(f"/v1/loans/{remote_id}", json=body, idempotent=True)
            return UpsertResult.updated(remote_id)
        if contact is None:
            raise InvalidRecord("a Total Expert loan needs its borrower (the deal's contact)")
        if not body.get("external_id"):
            if not body.get("loan_number"):
                raise InvalidRecord("a Total Expert loan needs a loan number or an external_id")
            body["external_id"] = str(body["loan_number"])
        if not body.get("owner"):
            body["owner"] = self._owner_of(contact)
        answer = self.http.post("/v1/loans", json=body, idempotent=True).json()
        made = UpsertResult.updated if "duplicate" in answer else UpsertResult.created
        return made(str(answer["id"]))

    def _owner_of(self, contact: int) -> dict[str, Any]:
        owner = self.http.get(f"/v1/contacts/{contact}").json().get("owner") or {}
        if not isinstance(owner, Mapping) or owner.get("id") is None:
            raise InvalidRecord(f"contact {contact} has no owner to own the loan")
        return {"id": owner["id"]}

    def _lead(self, payload: Payload) -> UpsertResult:
        body = _nest(payload)
        if body.get(AGENT) not in (None, ""):
            body[AGENT] = _user_id(body[AGENT])  # Total Expert takes only an integer
        remote_id = str(payload["id"]) if payload.get("id") else None
        contact = _contact(payload.get(REFERENCE))
        if remote_id is not None:
            if contact is None:  # a PATCH must repeat the lead's contact
                current = self.http.get(f"/v1/lead-opportunities/{remote_id}").json()
                contact = _contact(current.get("legacy_contact_id"))
            body[REFERENCE] = contact
            self.http.patch(f"/v1/lead-opportunities/{remote_id}", json=body, idempotent=True)
            return UpsertResult.updated(remote_id)
        if contact is not None:
            body[REFERENCE] = contact
        body.setdefault("source", DEFAULT_SOURCE)
        answer = self.http.post("/v1/lead-opportunities", json=body).json()
        return UpsertResult.created(str(answer["id"]))

    # --- reads ---------------------------------------------------------------------------

    def changes(self, object_type: str, cursor: str | None) -> ChangePage:
        """Records modified at or after the cursor (epoch seconds), all pages at once."""
        since = int(cursor) if cursor and cursor.isdigit() else 0
        spec = LENDING[object_type]
        params: dict[str, str] = {"page[size]": str(PAGE)}
        if object_type == "deals":
            moment = datetime.fromtimestamp(since, tz=UTC)
            params |= {"filter": f"internal_updated_at_start={te_time(moment)}"}
            params |= {"sort": "internal_updated_at"}
        else:
            params |= {"sort": "-updated_at"}
        found: list[RemoteRecord] = []
        page: int | None = 1
        while page is not None:
            body = self.http.get(spec.path, params={**params, "page[number]": str(page)}).json()
            records = [to_record(object_type, raw) for raw in body.get("items") or []]
            fresh = [
                r for r in records if r.modified_at is None or r.modified_at.timestamp() >= since
            ]
            found += fresh
            following = (body.get("links") or {}).get("next")
            older = len(fresh) < len(records)  # newest first: the rest are older still
            page = None if older or not following else int(following)
        newest = max(
            (int(r.modified_at.timestamp()) for r in found if r.modified_at), default=since
        )
        return ChangePage(found, [], str(newest))

    def read(self, object_type: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        path = LENDING[object_type].path
        return [to_record(object_type, self.http.get(f"{path}/{i}").json()) for i in remote_ids]
