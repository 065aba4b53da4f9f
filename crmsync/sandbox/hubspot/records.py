"""In-memory records of one HubSpot object type: create, update, archive, merge.

Computed properties (``hs_object_id``, ``createdate``, ``lastmodifieddate`` /
``hs_lastmodifieddate``) are derived from the record, never stored. Unique
properties (contact ``email`` and custom ``hasUniqueValue`` ones) are indexed
case-insensitively; a merged-away id keeps resolving to the surviving record.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

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
    # (changed values, timestamp ms, source) of every write after creation
    changes: list[tuple[dict[str, str], int, str]] = field(default_factory=list)

    def history(self, name: str) -> list[tuple[str, int, str]]:
        """Values of `name` over time, newest first: (value, timestamp ms, source)."""
        past = [(c[name], t, s) for c, t, s in self.changes if name in c]
        if name in self.initial:
            past.insert(0, (self.initial[name], self.created_ms, self.source))
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
    _plain_keys: dict[tuple[str, ...], bool] = field(default_factory=dict)
    _unique: dict[str, dict[str, str]] = field(default_factory=dict)

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
        self._plain_keys.clear()

    def clean(self, values: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """Validated values and problems; inputs of only free-text strings (the bulk
        of sync traffic) skip per-value checks, remembered per set of names."""
        names = tuple(values)
        plain = self._plain_keys.get(names)
        if plain is None:
            if len(self._plain_keys) > 1000:
                self._plain_keys.clear()
            props = self.properties
            plain = all(n in props and props[n].plain and not props[n].archived for n in names)
            self._plain_keys[names] = plain
        if plain and all(map(isinstance, values.values(), repeat(str))):
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
        changed = self._write(record, values, now_ms, source)
        if changed:
            record.updated_ms = now_ms
        return changed

    def archive(self, record: Record, now_ms: int) -> None:
        """Soft-delete: hidden from reads, lists and search unless archived=true."""
        record.archived = True
        record.archived_ms = now_ms
        record.updated_ms = now_ms
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
        """A record with every stored property (the answer to writes)."""
        spec = self.spec
        created, updated = iso_ms(record.created_ms), iso_ms(record.updated_ms)
        stored = record.properties
        # cleared values ("") answer as null
        properties = (
            {k: v or None for k, v in stored.items()} if "" in stored.values() else dict(stored)
        )
        properties["hs_object_id"] = record.id
        properties[spec.created_property] = created
        properties[spec.modified_property] = updated
        return {
            "id": record.id,
            "properties": properties,
            "createdAt": created,
            "updatedAt": updated,
            "archived": record.archived,
        }

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
        # set difference of the items views runs in C: the bulk of sync traffic
        changed = dict(values.items() - stored.items())
        if "" in changed.values():  # clearing a value that was never set is no change
            changed = {k: v for k, v in changed.items() if v or stored.get(k)}
        if not changed:
            return changed
        if not self._unique.keys().isdisjoint(changed):
            for name, index in self._unique.items():
                if name in changed:
                    old = stored.get(name)
                    if old:
                        index.pop(old.lower(), None)
                    if changed[name]:
                        index[changed[name].lower()] = record.id
        stored.update(changed)
        record.changes.append((changed, now_ms, source))
        return changed

    def _unindex(self, record: Record) -> None:
        for name, index in self._unique.items():
            value = record.properties.get(name)
            if value and index.get(value.lower()) == record.id:
                del index[value.lower()]
