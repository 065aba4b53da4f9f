"""The sandbox's Total Expert account: contacts, notes, activities, journeys, enrolments."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from crmsync.sandbox.totalexpert import contacts, custom_fields, dedup
from crmsync.sandbox.totalexpert.errors import TotalExpertError, missing_target, not_found
from crmsync.sandbox.totalexpert.note_types import NOTE_TYPES

Record = dict[str, Any]
# item, action, id, and a function giving hashValue (only computed when someone listens)
Notify = Callable[[str, str, int, Callable[[], str]], None]

FIRST_CONTACT_ID = 56490
# contact groups a new account has (groups are addressed by group_name or id)
DEFAULT_GROUPS = ("Past Client", "Prospect", "Realtor Partner")
ENGAGEMENT_TYPES = (
    "Email Sent", "Email Opened", "Email Clicked", "Page View", "SMS Sent", "SMS Replied",
    "Survey Response",
)  # fmt: skip
JOURNEYS = (
    {"id": 101, "name": "New Lead Nurture", "category": "Prospecting",
     "trigger_type": "manual", "active": True, "steps": 6},
    {"id": 102, "name": "Pre-Approval Follow-up", "category": "Pipeline",
     "trigger_type": "note_outcome", "active": True, "steps": 4},
    {"id": 103, "name": "Past Client Anniversary", "category": "Retention",
     "trigger_type": "date", "active": False, "steps": 3},
)  # fmt: skip


def content_hash(rendered: Mapping[str, Any]) -> str:
    """Hex digest of a record's contents (without the update stamp), for hashValue."""
    stable = {k: v for k, v in rendered.items() if k not in ("internal_updated_at", "updated_on")}
    return hashlib.sha256(orjson.dumps(stable, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class Account:
    """All state of one Total Expert account; `notify` fires webhook notifications."""

    clock: Callable[[], float]
    notify: Notify = lambda item, action, record_id, digest: None
    contacts: dict[int, Record] = field(default_factory=dict)
    notes: dict[int, Record] = field(default_factory=dict)
    activities: dict[int, Record] = field(default_factory=dict)
    insights: dict[int, Record] = field(default_factory=dict)
    enrollments: dict[tuple[int, int], Record] = field(default_factory=dict)
    journeys: dict[int, Record] = field(default_factory=dict)
    groups: dict[int, Record] = field(default_factory=dict)
    custom_fields: dict[str, Record] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: dict[str, int] = field(default_factory=dict)
    _dedup: dedup.DedupIndex = field(default_factory=dedup.DedupIndex)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.contacts.clear()
            self.notes.clear()
            self.activities.clear()
            self.insights.clear()
            self.enrollments.clear()
            self._dedup.clear()
            self.journeys = {int(str(j["id"])): dict(j) for j in JOURNEYS}
            stamp = contacts.te_time(self.clock())
            self.custom_fields = {
                d[0]: custom_fields.definition(*d, stamp) for d in custom_fields.DEFAULTS
            }
            self.groups = {
                n: {"id": n, "group_name": name, "user_editable": True, "owner_id": 1}
                for n, name in enumerate(DEFAULT_GROUPS, start=1)
            }
            self._ids = {
                "group": len(DEFAULT_GROUPS) + 1,
                "contact": FIRST_CONTACT_ID,
                "note": 9001,
                "activity": 70001,
                "enr": 1,
                "insight": 1,
            }

    def counts(self) -> dict[str, int]:
        return {
            "contacts": sum(1 for c in self.contacts.values() if not c.get("archived")),
            "contact-notes": len(self.notes),
            "activity": len(self.activities),
            "enrollments": sum(1 for e in self.enrollments.values() if e["status"] == "active"),
        }

    def next_id(self, name: str) -> int:
        """A fresh id of a kind of record (under the lock)."""
        with self.lock:
            return self._next(name)

    def _next(self, name: str) -> int:
        value = self._ids[name]
        self._ids[name] += 1
        return value

    # ---- contacts -----------------------------------------------------------------

    def contact(self, contact_id: Any) -> Record:
        found = self.contacts.get(_int(contact_id))
        if found is None:
            raise not_found("Contact")
        return found

    def define_custom_field(
        self, name: str, label: str, data_type: str, entity: str = "contact"
    ) -> Record:
        """Define a custom field, as an admin does in the Total Expert UI (the public API
        only reads definitions)."""
        if data_type not in custom_fields.DATA_TYPES or not name:
            raise TotalExpertError(400, f"Invalid custom field definition {name!r}")
        stamp = contacts.te_time(self.clock())
        with self.lock:
            made = custom_fields.definition(name, label or name, data_type, entity, stamp)
            self.custom_fields[name] = made
            return made

    def check_custom(self, entity: str, values: Any) -> None:
        """422/400 unless every custom value has a definition on `entity` and fits it."""
        if isinstance(values, list):
            values = {c.get("field_name"): c.get("value") for c in values if isinstance(c, Mapping)}
        custom_fields.check_custom(self.custom_fields, entity, values)

    def group_named(self, reference: str) -> str:
        """The name of the group a relationship names by id or name (422 if none)."""
        for group in self.groups.values():
            if reference in (str(group["id"]), group["group_name"]):
                return str(group["group_name"])
        raise missing_target("contact_groups")

    def _groups_of(self, values: dict[str, Any]) -> dict[str, Any]:
        """Relationships resolved against the account: groups by name or id, custom
        values against the contact custom-field definitions."""
        if values.get("custom"):
            self.check_custom("contact", values["custom"])
        for name in ("contact_groups", "remove_contact_groups"):
            if name in values:
                values[name] = [self.group_named(g) for g in values[name]]
        return values

    def post_contact(self, body: Any) -> tuple[bool, Record]:
        """Create, or update the duplicate it matches; (created?, contact)."""
        values = self._groups_of(contacts.parse_contact(body, creating=True))
        with self.lock:
            match = self._dedup.find(values)
            if match is not None:
                return False, self._update_contact(match, values)
            now = self.clock()
            record: Record = {"id": self._next("contact"), "custom": {}, "external_ids": []}
            record.update(internal_created_at=now, internal_updated_at=now, archived=False)
            contacts.merge(record, values)
            self.contacts[record["id"]] = record
            self._dedup.put(record["id"], record)
        self._fire("CONTACT", "CREATED", record)
        return True, record

    def patch_contact(self, contact_id: Any, body: Any) -> Record:
        values = self._groups_of(contacts.parse_contact(body, creating=False))
        return self._update_contact(contact_id, values)

    def _update_contact(self, contact_id: Any, values: Mapping[str, Any]) -> Record:
        with self.lock:
            record = self.contact(contact_id)
            was_archived = record.get("archived", False)
            contacts.merge(record, values)
            record["internal_updated_at"] = max(self.clock(), record["internal_updated_at"])
            if not dedup.KEY_FIELDS.isdisjoint(values):
                self._dedup.put(record["id"], record)
        archived_now = record.get("archived") and not was_archived
        self._fire("CONTACT", "ARCHIVED" if archived_now else "UPDATED", record)
        return record

    def delete_contact(self, contact_id: Any) -> None:
        with self.lock:
            record = self.contact(contact_id)
            del self.contacts[record["id"]]
            self._dedup.drop(record["id"])
        self._fire("CONTACT", "DELETED", record)

    # ---- notes and activities -----------------------------------------------------

    def note(self, note_id: Any) -> Record:
        found = self.notes.get(_int(note_id))
        if found is None:
            raise not_found("Contact note")
        return found

    def post_note(self, body: Any) -> Record:
        """Create a note (TE-PM "Create Contact Note (as Admin)"): title, note and type_id
        are required, and so are the `contact` and its `owner` (client-credentials tokens
        act as an admin); the contact must exist and be owned by that user."""
        if not isinstance(body, Mapping):
            raise TotalExpertError(400, "Malformed JSON: expected an object")
        missing = [n for n in ("title", "note", "type_id") if body.get(n) in (None, "")]
        if missing:
            raise TotalExpertError(422, f"Missing required attribute(s): {', '.join(missing)}")
        type_id = body["type_id"]
        if isinstance(type_id, bool) or not isinstance(type_id, int) or type_id not in NOTE_TYPES:
            raise TotalExpertError(422, f"Invalid type_id {type_id!r}")
        owner = contacts.find_user(body.get("owner"))
        if owner is None:
            raise missing_target("owner")
        contact_id = self._note_contact(body.get("contact"), owner["id"])
        with self.lock:
            now = self.clock()
            note = {
                "id": self._next("note"),
                "title": body.get("title"),
                "note": body.get("note"),
                "type_id": type_id,
                "is_private": bool(body.get("is_private", False)),
                "contact_id": contact_id,
                "owner_id": owner["id"],
                "created_on": now,
                "updated_on": now,
            }
            self.notes[note["id"]] = note
            self.add_activity(note["contact_id"], "Note Added", note["title"] or "", note["id"])
        self._fire("CONTACT_NOTE", "CREATED", note)
        outcome = body.get("outcome")
        if isinstance(outcome, Mapping) and outcome.get("outcome_id") is not None:
            # A note outcome can start a journey: enrol in the note-triggered ones.
            for journey in self.journeys.values():
                if journey["trigger_type"] == "note_outcome" and journey["active"]:
                    self.enroll(journey["id"], note["contact_id"])
        return note

    def _note_contact(self, target: Any, owner_id: int) -> int:
        """The contact a note addresses by id or by its attributes, which must match a
        contact of `owner_id` exactly (case aside); TE never creates one from a note."""
        if not isinstance(target, Mapping) or not target:
            raise missing_target("contact")
        wanted = {k: str(v).strip().lower() for k, v in target.items() if k != "id"}
        with self.lock:
            if "id" in target:
                found = [self.contacts[i] for i in (_int(target["id"]),) if i in self.contacts]
            else:
                found = list(self.contacts.values())
            for contact in found:
                same = all(str(contact.get(k) or "").lower() == v for k, v in wanted.items())
                if same and contact.get("owner_id") == owner_id and not contact.get("archived"):
                    return int(contact["id"])
        raise missing_target("contact")

    def patch_note(self, note_id: Any, body: Any) -> None:
        if not isinstance(body, Mapping):
            raise TotalExpertError(400, "Malformed JSON: expected an object")
        with self.lock:
            note = self.note(note_id)
            for name in ("title", "note", "type_id", "is_private"):
                if name in body:
                    note[name] = body[name]
            note["updated_on"] = max(self.clock(), note["updated_on"])
        self._fire("CONTACT_NOTE", "UPDATED", note)

    def delete_note(self, note_id: Any) -> None:
        with self.lock:
            note = self.notes.pop(self.note(note_id)["id"])
        self._fire("CONTACT_NOTE", "DELETED", note)

    def add_activity(
        self,
        contact_id: int,
        kind: str,
        title: str,
        note_id: int | None = None,
        details: Any = None,
    ) -> Record:
        with self.lock:
            activity = {
                "id": self._next("activity"),
                "type": kind,
                "title": title,
                "details": details,
                "notes": None,
                "note_id": note_id,
                "contact_id": contact_id,
                "owner_id": self.contacts[contact_id].get("owner_id", 1),
                "created_at": self.clock(),
            }
            self.activities[activity["id"]] = activity
            return activity

    def add_insight(
        self, contact_ref: Any, kind: str, data: Mapping[str, Any], date: Any
    ) -> Record:
        """An insight about a contact; it shows in the contact's activity."""
        contact_id = _int(contact_ref)
        if contact_id not in self.contacts:
            raise missing_target("contact")
        with self.lock:
            activity = self.add_activity(contact_id, "Insight", kind, None, data.get("description"))
            insight = {
                "id": self._next("insight"),
                "type": kind,
                "contact_id": contact_id,
                "data": dict(data),
                "insight_date": date,
                "activity_id": activity["id"],
                "created_at": activity["created_at"],
            }
            self.insights[insight["id"]] = insight
            return insight

    # ---- journeys -----------------------------------------------------------------

    def journey(self, journey_id: Any) -> Record:
        found = self.journeys.get(_int(journey_id))
        if found is None:
            raise not_found("Journey")
        return found

    def enroll(self, journey_id: Any, contact_id: Any) -> tuple[bool, Record]:
        """Enrol a contact; (newly enrolled?, enrolment)."""
        journey = self.journey(journey_id)
        if _int(contact_id) not in self.contacts:
            raise missing_target("contact")
        if not journey["active"]:
            raise TotalExpertError(422, f"Journey {journey['id']} is not active")
        key = (journey["id"], _int(contact_id))
        with self.lock:
            current = self.enrollments.get(key)
            if current is not None and current["status"] == "active":
                return False, current
            enrollment = {
                "id": self._next("enr"),
                "journey_id": key[0],
                "contact_id": key[1],
                "status": "active",
                "enrolled_at": self.clock(),
                "unenrolled_at": None,
            }
            self.enrollments[key] = enrollment
            self.add_activity(key[1], "Journey Enrolled", journey["name"])
        return True, enrollment

    def unenroll(self, journey_id: Any, contact_id: Any) -> Record:
        journey = self.journey(journey_id)
        with self.lock:
            enrollment = self.enrollments.get((journey["id"], _int(contact_id)))
            if enrollment is None or enrollment["status"] != "active":
                raise not_found("Enrollment")
            enrollment.update(status="unenrolled", unenrolled_at=self.clock())
            self.add_activity(enrollment["contact_id"], "Journey Unenrolled", journey["name"])
        return enrollment

    def journey_counts(self, journey_id: int) -> tuple[int, int]:
        """(active enrolments, completed enrolments) of a journey."""
        rows = [e for (j, _), e in self.enrollments.items() if j == journey_id]
        return (
            sum(1 for e in rows if e["status"] == "active"),
            sum(1 for e in rows if e["status"] == "completed"),
        )

    # ---- notifications ------------------------------------------------------------

    def _fire(self, item: str, action: str, record: Record) -> None:
        def digest() -> str:
            return content_hash(contacts.render(record) if item == "CONTACT" else record)

        self.notify(item, action, record["id"], digest)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
