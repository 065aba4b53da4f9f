"""In-memory records of one HubSpot object type: create, update, archive, merge.

Computed properties (``hs_object_id``, ``createdate``, ``lastmodifieddate`` /
``hs_lastmodifieddate``) are derived from the record, never stored. Unique
properties (contact ``email`` and custom ``hasUniqueValue`` ones) are indexed
case-insensitively; a merged-away id keeps resolving to the surviving record.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from crmsync.sandbox.hubspot.properties import PropertyDef, builtin_properties, clean_values
from crmsync.sandbox.hubspot.schema import ObjectSpec
from crmsync.sandbox.timefmt import iso_ms

CREATED = ("createdate", "hs_createdate")
MODIFIED = ("lastmodifieddate", "hs_lastmodifieddate")
COMPUTED = frozenset({*CREATED, *MODIFIED, "hs_object_id"})


@dataclass(slots=True)
class Record:
    """One CRM record; `properties` holds the written (string) values only."""

    id: str
    properties: dict[str, str]
    created_ms: int
    updated_ms: int
    archived: bool = False
    archived_ms: int = 0
    source: str = "API"
    initial: dict[str, str] = field(default_factory=dict)
    # every write after creation, one JSON line each: [timestamp ms, source, changed].
    # Bytes, not a list of tuples: the garbage collector does not traverse them, where
    # a list entry per write made full collections a fifth of a batch upsert's CPU
    # once history had grown.
    changes: bytearray = field(default_factory=bytearray)
    # the record as a batch upsert answers it (with `new` false), kept current by
    # every write so that answering needs no per-record rendering
    answer: dict[str, Any] = field(default_factory=dict)

    def history(self, name: str) -> list[tuple[str, int, str]]:
        """Values of `name` over time, newest first: (value, timestamp ms, source)."""
        past = []
        if name in self.initial:
            past.append((self.initial[name], self.created_ms, self.source))
        for line in self.changes.splitlines():
            stamp, source, changed = orjson.loads(line)
            if name in changed:
                past.append((changed[name], stamp, source))
        return past[::-1]

    def value(self, name: str) -> str | None:
        """A property value including the computed ones (None when unset)."""
        if name in MODIFIED:
            return iso_ms(self.updated_ms)
        if name in CREATED:
            return iso_ms(self.created_ms)
        if name == "hs_object_id":
            return self.id
        return self.properties.get(name) or None


@dataclass
class ObjectStore:
    """Records of one object type plus its property definitions."""

    spec: ObjectSpec
    properties: dict[str, PropertyDef] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    _plain: frozenset[str] | None = None
    _unique: dict[str, dict[str, str]] = field(default_factory=dict)
    # property groups created through the API (name -> label); built-in ones derive
    # from the built-in properties
    groups: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.properties:
            self.properties = builtin_properties(self.spec.name)
        for prop in self.properties.values():
            if prop.unique:
                self._unique.setdefault(prop.name, {})

    def add_property(self, prop: PropertyDef) -> None:
        """Register a (custom) property; unique ones get an index."""
        self.properties[prop.name] = prop
        if prop.unique:
            self._unique.setdefault(prop.name, {})
        self.properties_changed()

    def properties_changed(self) -> None:
        """Forget cached validation shortcuts after a definition changed."""
        self._plain = None

    def plain_names(self) -> frozenset[str]:
        """Live free-text properties: any string value is valid for them as it is."""
        if self._plain is None:
            self._plain = frozenset(
                p.name for p in self.properties.values() if p.plain and not p.archived
            )
        return self._plain

    def clean(self, values: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """Validated values and problems; inputs of only free-text strings (the bulk
        of sync traffic) skip per-value checks."""
        if values.keys() <= self.plain_names() and all(type(v) is str for v in values.values()):
            return dict(values), []
        return clean_values(self.properties, values)

    def is_unique(self, name: str) -> bool:
        """Whether `name` can identify records (idProperty)."""
        return name in self._unique

    def get(self, record_id: str, archived: bool = False) -> Record | None:
        """The record with this id (following merges); archived ones only if asked."""
        record = self.records.get(self.merged.get(record_id, record_id))
        if record is None or record.archived != archived:
            return None
        return record

    def find(self, name: str, value: str) -> Record | None:
        """The live record whose unique property `name` equals `value`."""
        if name == "hs_object_id":
            return self.get(value)
        index = self._unique.get(name)
        record_id = None if index is None else index.get(value.lower())
        if record_id is None:
            return None
        if self.merged:
            record_id = self.merged.get(record_id, record_id)
        record = self.records.get(record_id)
        return None if record is None or record.archived else record

    def find_many(self, name: str, values: list[str]) -> list[Record | None]:
        """`find` for each lowercased value (the batch upsert's lookups, in one loop)."""
        if name == "hs_object_id" or self.merged or name not in self._unique:
            return [self.find(name, v) for v in values]
        index, records = self._unique[name], self.records
        found: list[Record | None] = []
        for value in values:
            record = records.get(index.get(value, ""))
            found.append(None if record is None or record.archived else record)
        return found

    def lookup(self, record_id: str, id_property: str | None) -> Record | None:
        """Read by id, or by a unique property when `id_property` is given."""
        if id_property and id_property != "hs_object_id":
            return self.find(id_property, record_id)
        return self.get(record_id)

    def conflict(self, values: dict[str, str], own_id: str | None = None) -> str | None:
        """The id of another live record already holding one of these unique values."""
        for name, index in self._unique.items():
            value = values.get(name)
            if value:
                other = index.get(value.lower())
                if other is not None and other != own_id and other in self.records:
                    return other
        return None

    def create(self, record_id: str, values: dict[str, str], now_ms: int, source: str) -> Record:
        """Store a new record (the caller validated values and uniqueness)."""
        record = Record(record_id, dict(values), now_ms, now_ms, source=source, initial=values)
        stamp = iso_ms(now_ms)
        spec = self.spec
        # cleared values ("") answer as null
        shown: dict[str, str | None] = {k: v or None for k, v in values.items()}
        shown["hs_object_id"] = record_id
        shown[spec.created_property] = shown[spec.modified_property] = stamp
        record.answer = {
            "id": record_id,
            "properties": shown,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
            "new": False,
        }
        self.records[record_id] = record
        self.order.append(int(record_id))
        for name, index in self._unique.items():
            value = values.get(name)
            if value:
                index[value.lower()] = record_id
        return record

    def update(
        self, record: Record, values: dict[str, str], now_ms: int, source: str
    ) -> dict[str, str]:
        """Apply values; returns the properties whose value changed."""
        return self._write(record, values, now_ms, source)

    def upsert(
        self,
        planned: list[tuple[Record | None, dict[str, str]]],
        now_ms: int,
        source: str,
        new_id: Callable[[], int],
        written: list[tuple[Record, dict[str, str], bool]] | None = None,
    ) -> list[dict[str, Any]]:
        """Apply a checked batch upsert: None creates a record. Answers the records
        (with `new`); existing ones are their live answers, so encode them before the
        next write. `written` collects (record, changed values, created) per input."""
        results: list[dict[str, Any]] = []
        write = self._write
        for found, values in planned:
            if found is None:
                record = self.create(str(new_id()), values, now_ms, source)
                results.append({**record.answer, "new": True})
                if written is not None:
                    written.append((record, values, True))
            else:
                changed = write(found, values, now_ms, source)
                results.append(found.answer)
                if written is not None:
                    written.append((found, changed, False))
        return results

    def archive(self, record: Record, now_ms: int) -> None:
        """Soft-delete: hidden from reads, lists and search unless archived=true."""
        record.archived = True
        record.archived_ms = now_ms
        record.answer["archived"] = True
        self._touch(record, now_ms)
        self._unindex(record)

    def purge(self, record: Record) -> None:
        """Delete permanently (GDPR delete): not even archived=true shows it."""
        self._unindex(record)
        del self.records[record.id]

    def merge(self, primary: Record, other: Record, now_ms: int) -> None:
        """Fold `other` into `primary`: primary values win, blanks are filled."""
        fill = {k: v for k, v in other.properties.items() if v and not primary.properties.get(k)}
        self._unindex(other)
        del self.records[other.id]
        merged_ids = [
            i for i in (primary.properties.get("hs_merged_object_ids") or "").split(";") if i
        ]
        merged_ids.append(other.id)
        for old, survivor in list(self.merged.items()):
            if survivor == other.id:
                self.merged[old] = primary.id
        self.merged[other.id] = primary.id
        fill["hs_merged_object_ids"] = ";".join(merged_ids)
        self.update(primary, fill, now_ms, "MERGE")

    def page(self, after: int, limit: int, archived: bool) -> tuple[list[Record], int | None]:
        """Up to `limit` records with id > `after` in id order, and the next cursor."""
        start = bisect.bisect_right(self.order, after)
        found: list[Record] = []
        for number in itertools.islice(self.order, start, None):
            record = self.records.get(str(number))
            if record is None or record.archived != archived:
                continue
            if len(found) == limit:
                return found, int(found[-1].id)
            found.append(record)
        return found, None

    def live(self) -> Iterator[Record]:
        """Records that are not archived, in creation (id) order."""
        return (r for r in self.records.values() if not r.archived)

    def archived_records(self) -> Iterator[Record]:
        """Archived records, in creation order."""
        return (r for r in self.records.values() if r.archived)

    def count(self) -> int:
        """Number of live records."""
        return sum(1 for r in self.records.values() if not r.archived)

    def render_stored(self, record: Record) -> dict[str, Any]:
        """A record with every stored property (the answer to writes); a copy."""
        body = dict(record.answer)
        del body["new"]
        body["properties"] = dict(body["properties"])
        return body

    def render(
        self,
        record: Record,
        names: Iterable[str] | None,
        with_history: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """The `SimplePublicObject` JSON for `record`."""
        spec = self.spec
        wanted = spec.default_properties if names is None else names
        stored = record.properties
        created, updated = iso_ms(record.created_ms), iso_ms(record.updated_ms)
        # stored values first; computed ones (ids, timestamps) are filled in below
        properties = {n: stored.get(n) or None for n in wanted if n not in COMPUTED}
        for name in wanted:
            if name in COMPUTED:
                properties[name] = record.value(name)
        properties["hs_object_id"] = record.id
        properties[spec.created_property] = created
        properties[spec.modified_property] = updated
        body: dict[str, Any] = {
            "id": record.id,
            "properties": properties,
            "createdAt": created,
            "updatedAt": updated,
            "archived": record.archived,
        }
        if record.archived:
            body["archivedAt"] = iso_ms(record.archived_ms)
        if with_history:
            body["propertiesWithHistory"] = {
                n: [
                    {"value": v, "timestamp": iso_ms(t), "sourceType": s}
                    for v, t, s in record.history(n)
                ]
                for n in with_history
            }
        return body

    def _write(
        self, record: Record, values: dict[str, str], now_ms: int, source: str
    ) -> dict[str, str]:
        stored = record.properties
        if values.items() <= stored.items():  # a re-sent record: nothing to compare
            return {}
        shown = record.answer["properties"]
        unique = self._unique
        changed: dict[str, str] = {}
        # a plain loop: a comprehension's own frame costs more than its body here
        for name, value in values.items():
            if stored.get(name, "") != value:
                if name in unique:
                    self._reindex(record, name, value)
                changed[name] = stored[name] = value
                shown[name] = value or None  # cleared values ("") answer as null
        if changed:
            record.changes += orjson.dumps([now_ms, source, changed]) + b"\n"
            record.updated_ms = now_ms
            stamp = shown[self.spec.modified_property] = iso_ms(now_ms)
            record.answer["updatedAt"] = stamp
        return changed

    def _touch(self, record: Record, now_ms: int) -> None:
        stamp = iso_ms(now_ms)
        record.updated_ms = now_ms
        record.answer["updatedAt"] = record.answer["properties"][self.spec.modified_property] = (
            stamp
        )

    def _reindex(self, record: Record, name: str, value: str) -> None:
        index = self._unique[name]
        old = record.properties.get(name)
        if old:
            index.pop(old.lower(), None)
        if value:
            index[value.lower()] = record.id

    def _unindex(self, record: Record) -> None:
        for name, index in self._unique.items():
            value = record.properties.get(name)
            if value and index.get(value.lower()) == record.id:
                del index[value.lower()]
