"""Records of the generic REST CRM: leads and contacts with an `externalReference`.

Every write takes the next value of one account-wide `version` counter, so listing
by version with a cursor never skips or repeats a change, deletions included.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from crmsync.sandbox.timefmt import iso

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LEAD_STATUSES = ("new", "contacted", "qualified", "lost", "converted")
COMMON_FIELDS = ("firstName", "lastName", "email", "phone", "company", "customFields")
FIELDS: dict[str, tuple[str, ...]] = {
    "leads": (*COMMON_FIELDS, "status", "source"),
    "contacts": (*COMMON_FIELDS, "title"),
}
PREFIX = {"leads": "ld_", "contacts": "ct_"}
SINGULAR = {"leads": "lead", "contacts": "contact"}


@dataclass(slots=True)
class Item:
    """One lead or contact."""

    id: str
    fields: dict[str, Any]
    external_reference: str | None
    created: float
    updated: float
    version: int
    deleted: bool = False
    deleted_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The wire shape (see docs/sandboxes.md)."""
        return {
            "id": self.id,
            "externalReference": self.external_reference,
            **self.fields,
            "createdAt": iso(self.created),
            "updatedAt": iso(self.updated),
            "version": self.version,
            "deleted": self.deleted,
            "deletedAt": iso(self.deleted_at) if self.deleted_at is not None else None,
        }


def validate(resource: str, body: Mapping[str, Any], creating: bool) -> list[dict[str, str]]:
    """Field problems as ``[{field, message}]`` (empty when valid)."""
    allowed = {*FIELDS[resource], "externalReference"}
    problems = [{"field": k, "message": "unknown field"} for k in body if k not in allowed]
    email = body.get("email")
    if email is not None and (not isinstance(email, str) or not EMAIL.match(email)):
        problems.append({"field": "email", "message": "not a valid email address"})
    status = body.get("status")
    if status is not None and status not in LEAD_STATUSES:
        problems.append(
            {"field": "status", "message": f"must be one of {', '.join(LEAD_STATUSES)}"}
        )
    custom = body.get("customFields")
    if custom is not None and not isinstance(custom, dict):
        problems.append({"field": "customFields", "message": "must be an object"})
    ref = body.get("externalReference")
    if ref is not None and (not isinstance(ref, str) or not ref):
        problems.append({"field": "externalReference", "message": "must be a non-empty string"})
    if creating and resource == "leads" and not (body.get("email") or body.get("lastName")):
        problems.append({"field": "email", "message": "a lead needs an email or a lastName"})
    return problems


@dataclass
class GenericStore:
    """All leads and contacts of the account."""

    clock: Callable[[], float] = time.time
    items: dict[str, dict[str, Item]] = field(default_factory=dict)
    refs: dict[str, dict[str, str]] = field(default_factory=dict)
    _versions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """No records."""
        self.items = {r: {} for r in FIELDS}
        self.refs = {r: {} for r in FIELDS}
        self._versions = itertools.count(1)
        self._ids = itertools.count(1)

    def get(self, resource: str, item_id: str, deleted: bool = False) -> Item | None:
        """A record by id; deleted ones only when `deleted`."""
        item = self.items[resource].get(item_id)
        if item is None or (item.deleted and not deleted):
            return None
        return item

    def by_reference(self, resource: str, ref: str) -> Item | None:
        """The live record with this externalReference."""
        item_id = self.refs[resource].get(ref)
        return None if item_id is None else self.get(resource, item_id)

    def create(self, resource: str, body: Mapping[str, Any]) -> Item:
        """A new record (the caller validated and checked the reference)."""
        now = self.clock()
        item_id = f"{PREFIX[resource]}{next(self._ids):06d}"
        ref = body.get("externalReference")
        fields = {k: v for k, v in body.items() if k != "externalReference"}
        if resource == "leads":
            fields.setdefault("status", "new")
        item = Item(item_id, fields, ref, now, now, next(self._versions))
        self.items[resource][item_id] = item
        if ref:
            self.refs[resource][ref] = item_id
        return item

    def update(self, resource: str, item: Item, body: Mapping[str, Any]) -> bool:
        """Apply a partial update; False when nothing changed."""
        ref = body.get("externalReference", item.external_reference)
        changes = {
            k: v for k, v in body.items() if k != "externalReference" and item.fields.get(k) != v
        }
        if not changes and ref == item.external_reference:
            return False
        if ref != item.external_reference:
            if item.external_reference:
                self.refs[resource].pop(item.external_reference, None)
            if ref:
                self.refs[resource][ref] = item.id
            item.external_reference = ref
        item.fields.update(changes)
        item.updated = self.clock()
        item.version = next(self._versions)
        return True

    def delete(self, resource: str, item: Item) -> None:
        """Soft-delete; still listed to pollers with `deleted: true`."""
        item.deleted = True
        item.deleted_at = item.updated = self.clock()
        item.version = next(self._versions)
        if item.external_reference:
            self.refs[resource].pop(item.external_reference, None)

    def changed(
        self, resource: str, after_version: int, since: float | None, with_deleted: bool
    ) -> Iterator[Item]:
        """Records by ascending version after a cursor, optionally modified since."""
        items = sorted(self.items[resource].values(), key=lambda i: i.version)
        for item in items:
            if item.version <= after_version or (item.deleted and not with_deleted):
                continue
            if since is not None and item.updated < since:
                continue
            yield item

    def counts(self) -> dict[str, int]:
        """Live records per resource."""
        return {r: sum(not i.deleted for i in items.values()) for r, items in self.items.items()}
