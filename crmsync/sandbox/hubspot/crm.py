"""The HubSpot account's data: object stores, associations, ids, and change events.

Every write goes through here so that webhook events (creation, propertyChange,
deletion, merge) are emitted the same way for API calls and simulated user edits.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crmsync.sandbox.hubspot import errors
from crmsync.sandbox.hubspot.associations import AssociationStore
from crmsync.sandbox.hubspot.pipelines import Pipelines
from crmsync.sandbox.hubspot.properties import invalid, invalid_message
from crmsync.sandbox.hubspot.records import ObjectStore, Record
from crmsync.sandbox.hubspot.schema import OBJECTS, resolve


@dataclass(frozen=True)
class Event:
    """One change, before it becomes a webhook event in a batch."""

    subscription_type: str
    object_id: str
    change_source: str
    occurred_at: int
    property_name: str | None = None
    property_value: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


EventSink = Callable[[Event], None]


def _no_events(event: Event) -> None:
    return None


@dataclass
class HubSpotCrm:
    """All records of one HubSpot account (portal)."""

    portal_id: int = 62515
    clock: Callable[[], float] = time.time
    emit: EventSink = _no_events
    listening: bool = False
    stores: dict[str, ObjectStore] = field(default_factory=dict)
    associations: AssociationStore = field(default_factory=AssociationStore)
    pipelines: Pipelines = field(default_factory=Pipelines)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def __post_init__(self) -> None:
        if not self.stores:
            self.reset()

    def reset(self) -> None:
        """An empty account with built-in properties only."""
        self.stores = {name: ObjectStore(spec) for name, spec in OBJECTS.items()}
        self.associations.clear()
        self.pipelines.reset()
        self._ids = itertools.count(1001)

    def now_ms(self) -> int:
        """The account clock in epoch milliseconds."""
        return int(self.clock() * 1000)

    def store(self, object_type: str) -> ObjectStore:
        """The store of a path's object type (400 for unknown types, as HubSpot)."""
        spec = resolve(object_type)
        if spec is None:
            raise errors.validation(f"Unable to infer object type from: {object_type}")
        return self.stores[spec.name]

    def check(
        self,
        store: ObjectStore,
        values: Mapping[str, Any],
        creating: bool,
        current: Record | None = None,
    ) -> tuple[dict[str, str], str | None]:
        """Validated values, or an error message in HubSpot's words. `current` is the
        record an update writes to (its pipeline decides which stages are valid)."""
        if not isinstance(values, dict):  # a dict check is much cheaper than Mapping's
            return {}, "properties must be an object"
        clean, problems = store.clean(values)
        if creating:
            problems += _missing(store, clean)
        if not problems:
            known = current.properties if current is not None else {}
            problems += self.pipelines.problems(store.spec.name, clean, known)
        return clean, invalid_message(problems) if problems else None

    def validated(
        self,
        store: ObjectStore,
        values: Mapping[str, Any],
        creating: bool,
        current: Record | None = None,
    ) -> dict[str, str]:
        """Validated values or a raised VALIDATION_ERROR."""
        clean, problem = self.check(store, values, creating, current)
        if problem:
            raise errors.validation(problem)
        return clean

    def conflict(
        self, store: ObjectStore, clean: dict[str, str], own_id: str | None = None
    ) -> str | None:
        """HubSpot's CONFLICT message if a unique value is taken by another record."""
        other = store.conflict(clean, own_id)
        if other is None:
            return None
        return f"{store.spec.singular.title()} already exists. Existing ID: {other}"

    def create(
        self, store: ObjectStore, clean: dict[str, str], source: str = "API", now: int = 0
    ) -> Record:
        """A new record with a fresh id; emits creation (and property) events."""
        now = now or self.now_ms()
        record = store.create(str(next(self._ids)), clean, now, source)
        if self.listening:
            self._emit_write(store, record, clean, True, source, now)
        return record

    def update(
        self,
        store: ObjectStore,
        record: Record,
        clean: dict[str, str],
        source: str = "API",
        now: int = 0,
    ) -> dict[str, str]:
        """Apply values; emits one propertyChange per changed property."""
        now = now or self.now_ms()
        changed = store.update(record, clean, now, source)
        if self.listening:
            self._emit_write(store, record, changed, False, source, now)
        return changed

    def upsert(
        self,
        store: ObjectStore,
        planned: list[tuple[Record | None, dict[str, str]]],
        source: str = "API",
    ) -> list[dict[str, Any]]:
        """Apply a checked batch upsert (None creates); emits the events of each
        write in input order. Answers the records as `ObjectStore.upsert` does."""
        now = self.now_ms()
        written: list[tuple[Record, dict[str, str], bool]] | None = [] if self.listening else None
        results = store.upsert(planned, now, source, self._ids.__next__, written)
        for record, values, created in written or ():
            self._emit_write(store, record, values, created, source, now)
        return results

    def archive(self, store: ObjectStore, record: Record, source: str = "API") -> None:
        """Soft-delete; emits deletion."""
        now = self.now_ms()
        store.archive(record, now)
        if self.listening:
            self._emit(store, record, "deletion", source, now)

    def purge(self, store: ObjectStore, record: Record, source: str = "API") -> None:
        """Permanent delete; emits privacyDeletion."""
        now = self.now_ms()
        store.purge(record)
        self.associations.drop(store.spec.singular, record.id)
        if self.listening:
            self._emit(store, record, "privacyDeletion", source, now)

    def merge(
        self, store: ObjectStore, primary: Record, other: Record, source: str = "API"
    ) -> Record:
        """Merge `other` into `primary`; the old id keeps resolving to `primary`."""
        now = self.now_ms()
        store.merge(primary, other, now)
        self.associations.move(store.spec.singular, other.id, primary.id)
        if self.listening:
            extra = {
                **store.spec.event_extra(),
                "primaryObjectId": int(primary.id),
                "mergedObjectIds": [int(other.id)],
                "newObjectId": int(primary.id),
                "numberOfPropertiesMoved": len(other.properties),
            }
            kind = f"{store.spec.event_prefix}.merge"
            self.emit(Event(kind, primary.id, source, now, extra=extra))
        return primary

    def counts(self) -> dict[str, int]:
        """Live records per object type."""
        return {name: store.count() for name, store in self.stores.items()}

    def _emit_write(
        self,
        store: ObjectStore,
        record: Record,
        values: Mapping[str, str],
        created: bool,
        source: str,
        now: int,
    ) -> None:
        """creation (for a new record), then one propertyChange per written value."""
        if created:
            self._emit(store, record, "creation", source, now)
        for name, value in values.items():
            self._emit(store, record, "propertyChange", source, now, name, value)

    def _emit(
        self,
        store: ObjectStore,
        record: Record,
        kind: str,
        source: str,
        now: int,
        name: str | None = None,
        value: str | None = None,
    ) -> None:
        spec = store.spec
        subscription_type = f"{spec.event_prefix}.{kind}"
        self.emit(Event(subscription_type, record.id, source, now, name, value, spec.event_extra()))


def _missing(store: ObjectStore, clean: dict[str, str]) -> list[dict[str, Any]]:
    return [
        invalid(name, "REQUIRED_FIELD", f"{name} is required")
        for name in store.spec.required
        if not clean.get(name)
    ]
