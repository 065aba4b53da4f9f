"""In-memory Pipedrive records: ids, timestamps, soft deletes and change history."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from crmsync.sandbox.pipedrive.kinds import KINDS, Kind

Record = dict[str, Any]

# Fields the store owns; a write never sets them directly.
SYSTEM_FIELDS = frozenset({"id", "add_time", "update_time", "is_deleted"})


@dataclass
class Change:
    """One write, as a webhook describes it."""

    kind: Kind
    action: str  # create | change | delete
    current: Record | None
    previous: Record | None  # for change: the old values of changed fields only
    source: str  # api | app

    @property
    def noop(self) -> bool:
        """An update that left every value as it was."""
        return self.action == "change" and not self.previous


@dataclass
class RecordStore:
    """All records of one sandbox company, keyed by entity then id."""

    clock: Callable[[], float]
    records: dict[str, dict[Any, Record]] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.records = {plural: {} for plural in KINDS}
            self.next_ids = dict.fromkeys(KINDS, 1)

    def counts(self) -> dict[str, int]:
        return {
            plural: sum(1 for r in recs.values() if not r["is_deleted"])
            for plural, recs in self.records.items()
        }

    def get(self, kind: Kind, record_id: Any) -> Record | None:
        return self.records[kind.plural].get(_key(kind, record_id))

    def all(self, kind: Kind) -> Iterator[Record]:
        return iter(list(self.records[kind.plural].values()))

    def create(self, kind: Kind, values: Record, source: str = "api") -> Change:
        with self.lock:
            now = self.clock()
            if kind.uuid_ids:
                record_id: Any = str(uuid.uuid4())
            else:
                record_id = self.next_ids[kind.plural]
                self.next_ids[kind.plural] += 1
            record: Record = {"custom_fields": {}}
            _apply(record, values)
            record.update(id=record_id, add_time=now, update_time=now, is_deleted=False)
            record.setdefault("is_archived", False)
            self.records[kind.plural][record_id] = record
            return Change(kind, "create", _snapshot(record), None, source)

    def update(self, kind: Kind, record: Record, values: Record, source: str = "api") -> Change:
        """A write that changes no value leaves ``update_time`` as it was, and its Change
        is ``noop`` (Pipedrive sends no webhook for it)."""
        with self.lock:
            before = _snapshot(record)
            _apply(record, values)
            changed = (k for k in set(before) | set(record) if record.get(k) != before.get(k))
            previous = {k: before.get(k) for k in changed}
            if previous:
                record["update_time"] = max(self.clock(), record["update_time"])
            return Change(kind, "change", _snapshot(record), previous, source)

    def delete(self, kind: Kind, record: Record, source: str = "api") -> Change:
        """Soft delete: the record stays readable (Pipedrive purges after 30 days)."""
        with self.lock:
            before = _snapshot(record)
            record["is_deleted"] = True
            record["update_time"] = max(self.clock(), record["update_time"])
            return Change(kind, "delete", None, before, source)


def _snapshot(record: Record) -> Record:
    """A deep copy of a JSON-shaped record (orjson is ~10x faster than copy.deepcopy)."""
    return dict(orjson.loads(orjson.dumps(record)))


def _key(kind: Kind, record_id: Any) -> Any:
    if kind.uuid_ids:
        return str(record_id)
    try:
        return int(record_id)
    except (TypeError, ValueError):
        return None


def _apply(record: Record, values: Record) -> None:
    for name, value in values.items():
        if name in SYSTEM_FIELDS:
            continue
        if name == "custom_fields":
            custom = record.setdefault("custom_fields", {})
            for key, custom_value in value.items():
                if custom_value is None:
                    custom.pop(key, None)
                else:
                    custom[key] = custom_value
        else:
            record[name] = value
