"""The sandbox's Pipedrive company: records, fields and the writes that fire webhooks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from crmsync.sandbox.pipedrive.envelope import PipedriveError
from crmsync.sandbox.pipedrive.fields import FieldRegistry
from crmsync.sandbox.pipedrive.filters import Filters
from crmsync.sandbox.pipedrive.kinds import DEAL, KINDS, LEAD, NOTE, ORGANIZATION, PERSON, Kind
from crmsync.sandbox.pipedrive.payload import parse
from crmsync.sandbox.pipedrive.store import Change, Record, RecordStore

# Which record a relation field must point at.
_REFERENCES = {
    "person_id": PERSON,
    "org_id": ORGANIZATION,
    "organization_id": ORGANIZATION,
    "deal_id": DEAL,
    "lead_id": LEAD,
}


@dataclass
class Company:
    """All state of one company and the record operations both API versions share."""

    clock: Callable[[], float]
    notify: Callable[[Change], None] = lambda change: None
    store: RecordStore = field(init=False)
    fields: FieldRegistry = field(init=False)
    filters: Filters = field(init=False)

    def __post_init__(self) -> None:
        self.store = RecordStore(self.clock)
        self.fields = FieldRegistry(self.clock)
        self.filters = Filters(self.fields, self.clock)

    def reset(self) -> None:
        self.store.reset()
        self.fields.reset()
        self.filters.reset()

    def name_of(self, plural: str, record_id: Any) -> str:
        """Display name of a related person or organization (v1 related objects)."""
        record = self.store.get(KINDS[plural], record_id)
        return str(record.get("name") or "") if record else ""

    def find(self, kind: Kind, record_id: Any, include_deleted: bool = False) -> Record:
        record = self.store.get(kind, record_id)
        if record is None or (record["is_deleted"] and not include_deleted):
            raise PipedriveError(404, f"{kind.singular.capitalize()} not found")
        return record

    def create(self, kind: Kind, body: Any, version: int, source: str = "api") -> Record:
        values = parse(kind, body, self.fields.custom_keys(kind), version, creating=True)
        self._check_references(values)
        if kind is DEAL:
            values.setdefault("status", "open")
        change = self.store.create(kind, values, source)
        self.notify(change)
        assert change.current is not None
        return self.find(kind, change.current["id"])

    def update(
        self, kind: Kind, record_id: Any, body: Any, version: int, source: str = "api"
    ) -> Record:
        record = self.find(kind, record_id)
        values = parse(kind, body, self.fields.custom_keys(kind), version, creating=False)
        for name in kind.required:
            if name in values and not str(values[name] or "").strip():
                raise PipedriveError(400, f"{name.capitalize()} must be given.")
        self._check_references(values)
        self.notify(self.store.update(kind, record, values, source))
        return record

    def delete(self, kind: Kind, record_id: Any, source: str = "api") -> Record:
        record = self.find(kind, record_id)
        self.notify(self.store.delete(kind, record, source))
        return record

    def listing(self, kind: Kind, include_deleted: bool = False) -> list[Record]:
        return sorted(
            (r for r in self.store.all(kind) if include_deleted or not r["is_deleted"]),
            key=_order(kind),
        )

    def filtered(self, kind: Kind, filters: dict[str, Any]) -> Iterable[Record]:
        for record in self.listing(kind):
            if all(record.get(name) == value for name, value in filters.items()):
                yield record

    def _check_references(self, values: dict[str, Any]) -> None:
        for name, kind in _REFERENCES.items():
            value = values.get(name)
            if value is not None and self.store.get(kind, value) is None:
                raise PipedriveError(400, f"{kind.singular.capitalize()} {value} not found")


def _order(kind: Kind) -> Callable[[Record], Any]:
    if kind in (LEAD, NOTE):
        return lambda r: (r["add_time"], str(r["id"]))
    return lambda r: r["id"]
