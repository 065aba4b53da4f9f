"""Total Expert contact notes as crmsync notes (``/v1/contact-notes``).

A note hangs on a contact (``contact_id`` in the payload, Total Expert's contact id) and,
with an admin token, must name an owner who owns that contact: the contact's owner. Its
``title`` defaults to the start of the note. Polling reads notes created since the
cursor (``created_on_start``); Total Expert reports no note deletions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from crmsync.connectors.base import ChangePage, Payload, RemoteField, RemoteRecord, UpsertResult
from crmsync.connectors.errors import InvalidRecord
from crmsync.connectors.http.client import ConnectorHttp
from crmsync.connectors.totalexpert.client import TotalExpertClient
from crmsync.connectors.totalexpert.mappers import NOTE_TYPE, parse_time, te_time

__all__ = ["NOTE_FIELDS", "TotalExpertNotes"]

PATH = "/v1/contact-notes"
NOTE_FIELDS = (
    RemoteField("title", "Title", "string"),
    RemoteField("note", "Note", "string", required=True),
    RemoteField("contact_id", "Contact", "reference"),
)


def to_note_record(raw: Mapping[str, Any]) -> RemoteRecord:
    properties = {
        "title": raw.get("title"),
        "note": raw.get("note"),
        "contact_id": (raw.get("contact") or {}).get("id"),
    }
    return RemoteRecord(str(raw["id"]), properties, parse_time(raw.get("created_on")))


class TotalExpertNotes:
    def __init__(self, http: ConnectorHttp):
        self.http = http

    def upsert(self, payload: Payload) -> UpsertResult:
        text = str(payload.get("note") or "")
        title = str(payload.get("title") or text[:60] or "Note")
        if payload.get("id"):
            patch = {"title": title[:255], "note": text} if text else {"title": title[:255]}
            self.http.patch(f"{PATH}/{payload['id']}", json=patch, idempotent=True)
            return UpsertResult.updated(str(payload["id"]))
        contact = payload.get("contact_id")
        if contact in (None, ""):
            raise InvalidRecord("a Total Expert note hangs on a contact (the note's contact)")
        owner = self.http.get(f"/v1/contacts/{contact}").json().get("owner") or {}
        if not owner.get("id"):
            raise InvalidRecord(f"contact {contact} has no owner to own its notes")
        body: dict[str, Any] = {
            "title": title[:255],
            "note": text or title,
            "type_id": NOTE_TYPE,
            "contact": {"id": int(str(contact))},
            "owner": {"id": owner["id"]},
        }
        return UpsertResult.created(str(self.http.post(PATH, json=body).json()["id"]))

    def changes(self, cursor: str | None) -> ChangePage:
        since = int(cursor) if cursor and cursor.isdigit() else 0
        start = te_time(datetime.fromtimestamp(since, tz=UTC))
        raw = TotalExpertClient(self.http).every(PATH, {"filter": f"created_on_start={start}"})
        found = [to_note_record(item) for item in raw]
        newest = max(
            (int(r.modified_at.timestamp()) for r in found if r.modified_at), default=since
        )
        return ChangePage(found, [], str(newest))
