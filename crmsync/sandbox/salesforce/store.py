"""The in-memory org: records of each sObject, external-id indexes and the recycle bin.

Records are dicts of canonical field name -> stored value (`values.coerce` output).
Deleting keeps the record with ``IsDeleted`` true and its deletion time, as the
Recycle Bin does, so ``queryAll`` and the ``deleted`` resource can see it. A
`Savepoint` lets a collections call with ``allOrNone`` undo what it already wrote.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from crmsync.sandbox.salesforce import errors
from crmsync.sandbox.salesforce.ids import IdFactory, normalise
from crmsync.sandbox.salesforce.schema import Field, SObjectType
from crmsync.sandbox.salesforce.values import coerce, now_seconds

Record = dict[str, Any]
_SYSTEM = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)


@dataclass
class Savepoint:
    """Prior state of every record touched since the savepoint was taken."""

    before: dict[str, tuple[str, Record | None, datetime | None]] = field(default_factory=dict)


class OrgStore:
    """All records of one org, thread-safe (handlers and `user_change` may race)."""

    def __init__(self, objects: Mapping[str, SObjectType], clock: Callable[[], datetime]) -> None:
        self._defined = dict(objects)
        self.objects = dict(objects)
        self.clock = clock
        self.ids = IdFactory()
        self._prefixes = {o.key_prefix: o.name for o in self.objects.values()}
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Empty every object and the recycle bin; fields added since creation go."""
        with self.lock:
            self.objects = dict(self._defined)
            self.records: dict[str, dict[str, Record]] = {n: {} for n in self.objects}
            self.deleted_at: dict[str, datetime] = {}
            self._index: dict[tuple[str, str], dict[str, set[str]]] = {
                (o.name, f.name): {} for o in self.objects.values() for f in o.external_ids
            }
            self._savepoints: list[Savepoint] = []
            self.created = now_seconds(self.clock())

    def add_user(self, user_id: str, username: str, first: str, last: str) -> None:
        """Seed one active User (users are not created through the API here)."""
        if "User" not in self.objects:
            return
        stamp = now_seconds(self.clock())
        with self.lock:
            self.records["User"][user_id] = {
                "Id": user_id,
                "IsDeleted": False,
                "Username": username,
                "Email": username,
                "FirstName": first,
                "LastName": last,
                "Name": f"{first} {last}",
                "IsActive": True,
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
            }

    def add_field(self, sobject: str, added: Field) -> None:
        """Add a custom field to an object (the Tooling API's CustomField create)."""
        with self.lock:
            base = self.objects[sobject]
            self.objects[sobject] = replace(base, fields=(*base.fields, added), _by_lower={})
            if added.external_id:
                self._index[(sobject, added.name)] = {}

    # ---- look-ups ------------------------------------------------------------------

    def sobject(self, name: str) -> SObjectType:
        """The sObject type `name` (case-insensitive) or NOT_FOUND."""
        found = self.objects.get(name) or next(
            (o for o in self.objects.values() if o.name.lower() == name.lower()), None
        )
        if found is None:
            raise errors.not_found()
        return found

    def object_of(self, record_id: str) -> str | None:
        """The object name an id belongs to, from its key prefix."""
        return self._prefixes.get(record_id[:3])

    def get(self, sobject: str, record_id: str, include_deleted: bool = False) -> Record:
        """A record, or NOT_FOUND (deleted ones only with `include_deleted`)."""
        record = self.records[sobject].get(normalise(record_id))
        if record is None or (record["IsDeleted"] and not include_deleted):
            raise errors.not_found()
        return record

    def rows(self, sobject: str, include_deleted: bool = False) -> Iterator[Record]:
        """Records of `sobject` in creation order."""
        for record in self.records[sobject].values():
            if include_deleted or not record["IsDeleted"]:
                yield record

    def match_external(self, sobject: str, field_name: str, value: Any) -> list[str]:
        """Ids of live records whose external id `field_name` equals `value`."""
        found = self._index.get((sobject, field_name), {}).get(_key(value))
        return sorted(found) if found else []

    def count(self, sobject: str) -> int:
        return sum(1 for _ in self.rows(sobject))

    # ---- writes --------------------------------------------------------------------

    def create(self, sobject: str, fields: Mapping[str, Any], actor: str) -> Record:
        """Insert a record; checks fields, required fields and unique external ids."""
        kind = self.objects[sobject]
        values = self._writable(kind, fields, "createable")
        missing = [name for name in kind.required if values.get(name) is None]
        if missing:
            raise errors.required_missing(missing)
        with self.lock:
            record_id = self.ids.new(kind.key_prefix)
            self._check_unique(kind, values, record_id)
            stamp = now_seconds(self.clock())
            record: Record = dict(kind.initial)
            record.update(values)
            record.update(
                Id=record_id,
                IsDeleted=False,
                CreatedDate=stamp,
                CreatedById=actor,
                LastModifiedDate=stamp,
                LastModifiedById=actor,
                SystemModstamp=stamp,
            )
            if record.get("OwnerId") in (None, "owner"):
                record["OwnerId"] = actor
            _derive(kind, record)
            self._remember(sobject, record_id)
            self.records[sobject][record_id] = record
            self._reindex(kind, record_id, None, record)
            return record

    def update(self, sobject: str, record_id: str, fields: Mapping[str, Any], actor: str) -> Record:
        """Change fields of a live record."""
        kind = self.objects[sobject]
        values = self._writable(kind, fields, "updateable")
        with self.lock:
            current = self._writable_record(sobject, record_id)
            cleared = [n for n in kind.required if n in values and values[n] is None]
            if cleared:
                raise errors.required_missing(cleared)
            self._check_unique(kind, values, current["Id"])
            self._remember(sobject, current["Id"])
            updated = {**current, **values}
            _derive(kind, updated)
            stamp = now_seconds(self.clock())
            updated.update(LastModifiedDate=stamp, LastModifiedById=actor, SystemModstamp=stamp)
            self.records[sobject][current["Id"]] = updated
            if any(f.name in values for f in kind.external_ids):
                self._reindex(kind, current["Id"], current, updated)
            return updated

    def delete(self, sobject: str, record_id: str, actor: str) -> None:
        """Move a record to the recycle bin."""
        kind = self.objects[sobject]
        with self.lock:
            current = self._writable_record(sobject, record_id)
            self._remember(sobject, current["Id"])
            stamp = now_seconds(self.clock())
            gone = {
                **current,
                "IsDeleted": True,
                "SystemModstamp": stamp,
                "LastModifiedDate": stamp,
                "LastModifiedById": actor,
            }
            self.records[sobject][current["Id"]] = gone
            self.deleted_at[current["Id"]] = stamp
            self._reindex(kind, current["Id"], current, None)

    def upsert(
        self,
        sobject: str,
        field_name: str,
        value: Any,
        fields: Mapping[str, Any],
        actor: str,
    ) -> tuple[Record, bool]:
        """Create or update by external id; returns (record, created)."""
        kind = self.objects[sobject]
        key_field = kind.field(field_name)
        if key_field is None or not (key_field.external_id or key_field.name == "Id"):
            raise errors.not_found(
                f"Provided external ID field does not exist or is not accessible: {field_name}"
            )
        if key_field.name == "Id":
            if value in (None, ""):
                return self.create(sobject, fields, actor), True
            return self.update(sobject, value, fields, actor), False
        key_lower = key_field.name.lower()
        body: Record = {}
        for name, given in fields.items():
            if name.lower() != key_lower:
                body[name] = given
            elif _key(given) != _key(value):
                raise errors.invalid_field(
                    f"The value of the external id field {key_field.name} in the body does "
                    "not match the value in the URL",
                    [key_field.name],
                )
        with self.lock:
            matches = self.match_external(sobject, key_field.name, value)
            if len(matches) > 1:
                raise errors.MultipleMatches(sobject, matches)
            if matches:
                return self.update(sobject, matches[0], body, actor), False
            return self.create(sobject, {**body, key_field.name: value}, actor), True

    # ---- savepoints ------------------------------------------------------------------

    def savepoint(self) -> Savepoint:
        """Start remembering prior states. Savepoints nest (a collections call inside a
        composite request): each remembers every write made while it is open."""
        self.lock.acquire()
        self._savepoints.append(Savepoint())
        return self._savepoints[-1]

    def release(self, savepoint: Savepoint, rollback: bool) -> None:
        """End the savepoint, restoring prior states when `rollback`."""
        try:
            if rollback:
                for record_id, (sobject, before, deleted) in savepoint.before.items():
                    kind = self.objects[sobject]
                    after = self.records[sobject].get(record_id)
                    self._reindex(kind, record_id, _live(after), _live(before))
                    if before is None:
                        self.records[sobject].pop(record_id, None)
                    else:
                        self.records[sobject][record_id] = before
                    if deleted is None:
                        self.deleted_at.pop(record_id, None)
                    else:
                        self.deleted_at[record_id] = deleted
        finally:
            self._savepoints = [s for s in self._savepoints if s is not savepoint]
            self.lock.release()

    # ---- internals -------------------------------------------------------------------

    def _writable_record(self, sobject: str, record_id: str) -> Record:
        current = self.records[sobject].get(normalise(record_id))
        if current is None:
            raise errors.not_found()
        if current["IsDeleted"]:
            raise errors.entity_deleted()
        return current

    def _writable(self, kind: SObjectType, fields: Mapping[str, Any], rule: str) -> Record:
        values: Record = {}
        locked: list[str] = []
        for name, value in fields.items():
            if name == "attributes":
                continue
            found = kind.field(name)
            if found is None:
                raise errors.no_such_column(name, kind.name)
            if not getattr(found, rule):
                locked.append(found.name)
                continue
            values[found.name] = self._checked(found, coerce(found.type, found.name, value))
        if locked:
            raise errors.not_writable(locked)
        return values

    def _checked(self, found: Field, value: Any) -> Any:
        """`value` after Salesforce's field rules: length, e-mail form, lookups."""
        if not isinstance(value, str):
            return value
        if found.type == "reference":
            return self._reference(found, value)
        if found.length and len(value) > found.length:
            raise errors.string_too_long(found.label, found.name, value, found.length)
        if found.type == "email" and value and not _EMAIL.match(value):
            raise errors.invalid_email(found.label, found.name, value)
        return value

    def _reference(self, found: Field, value: str) -> str:
        targets = [t for t in found.reference_to if t in self.objects]
        if not targets or not value:
            return value
        target = self.object_of(value)
        if len(value) not in (15, 18) or target not in targets:
            raise errors.malformed_id(found.label, found.name, value)
        record = self.records[target].get(normalise(value))
        if record is None:
            raise errors.invalid_reference(found.name)
        if record["IsDeleted"]:
            raise errors.ApiError(400, "ENTITY_IS_DELETED", "entity is deleted", [found.name])
        return str(record["Id"])

    def _check_unique(self, kind: SObjectType, values: Record, record_id: str) -> None:
        for f in kind.external_ids:
            if f.unique and values.get(f.name) is not None:
                other = [
                    i
                    for i in self.match_external(kind.name, f.name, values[f.name])
                    if i != record_id
                ]
                if other:
                    raise errors.duplicate_value(f.name, other[0])

    def _reindex(
        self, kind: SObjectType, record_id: str, old: Record | None, new: Record | None
    ) -> None:
        for f in kind.external_ids:
            index = self._index[(kind.name, f.name)]
            if old is not None and old.get(f.name) is not None:
                index.get(_key(old[f.name]), set()).discard(record_id)
            if new is not None and new.get(f.name) is not None:
                index.setdefault(_key(new[f.name]), set()).add(record_id)

    def _remember(self, sobject: str, record_id: str) -> None:
        for savepoint in self._savepoints:
            if record_id not in savepoint.before:
                before = self.records[sobject].get(record_id)
                savepoint.before[record_id] = (sobject, before, self.deleted_at.get(record_id))


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _key(value: Any) -> str:
    # External ids match case-insensitively unless defined case-sensitive.
    return str(value).casefold()


def _live(record: Record | None) -> Record | None:
    return None if record is None or record["IsDeleted"] else record


def _derive(kind: SObjectType, record: Record) -> None:
    # Salesforce computes the compound Name of people from its parts on every write.
    if kind.compound_name:
        parts = (record.get("FirstName"), record.get("LastName"))
        record["Name"] = " ".join(str(p) for p in parts if p) or None
