"""Field definitions per entity, with custom fields keyed by 40-character hashes."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crmsync.sandbox.pipedrive.kinds import Kind

FIELD_TYPES = frozenset(
    {
        "address", "date", "daterange", "double", "enum", "monetary", "org", "people",
        "phone", "set", "text", "time", "timerange", "user", "varchar", "varchar_auto",
        "visible_to",
    }
)  # fmt: skip

# (key, label, field_type) of the standard fields each entity lists.
STANDARD: dict[str, tuple[tuple[str, str, str], ...]] = {
    "persons": (
        ("name", "Name", "varchar"),
        ("first_name", "First name", "varchar"),
        ("last_name", "Last name", "varchar"),
        ("email", "Email", "varchar"),
        ("phone", "Phone", "phone"),
        ("org_id", "Organization", "org"),
        ("owner_id", "Owner", "user"),
        ("label_ids", "Labels", "set"),
        ("visible_to", "Visible to", "visible_to"),
    ),
    "organizations": (
        ("name", "Name", "varchar"),
        ("address", "Address", "address"),
        ("owner_id", "Owner", "user"),
        ("label_ids", "Labels", "set"),
        ("visible_to", "Visible to", "visible_to"),
    ),
    "deals": (
        ("title", "Title", "varchar"),
        ("value", "Value", "monetary"),
        ("currency", "Currency", "varchar"),
        ("person_id", "Contact person", "people"),
        ("org_id", "Organization", "org"),
        ("pipeline_id", "Pipeline", "double"),
        ("stage_id", "Stage", "double"),
        ("status", "Status", "enum"),
        ("probability", "Probability", "double"),
        ("expected_close_date", "Expected close date", "date"),
        ("owner_id", "Owner", "user"),
        ("lost_reason", "Lost reason", "varchar"),
    ),
    "activities": (
        ("subject", "Subject", "varchar"),
        ("type", "Type", "enum"),
        ("due_date", "Due date", "date"),
        ("due_time", "Due time", "time"),
        ("duration", "Duration", "time"),
        ("done", "Done", "enum"),
        ("note", "Note", "text"),
        ("person_id", "Contact person", "people"),
        ("org_id", "Organization", "org"),
        ("deal_id", "Deal", "double"),
        ("owner_id", "Assigned to user", "user"),
    ),
}
_COMMON = (("add_time", "Created", "date"), ("update_time", "Update time", "date"))


@dataclass
class FieldRegistry:
    """Standard and custom fields of every entity that has a *Fields endpoint."""

    clock: Callable[[], float]
    fields: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 12000

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self._next_id = 12000
            self.fields = {}
            for plural in STANDARD:
                self.fields[plural] = []
                for key, label, field_type in STANDARD[plural] + _COMMON:
                    self._add(plural, key, label, field_type, custom=False)

    def listing(self, kind: Kind) -> list[dict[str, Any]]:
        return list(self.fields.get(kind.plural, []))

    def custom_keys(self, kind: Kind) -> dict[str, dict[str, Any]]:
        return {f["key"]: f for f in self.fields.get(kind.plural, []) if f["edit_flag"]}

    def create(self, kind: Kind, name: str, field_type: str, options: list[Any]) -> dict[str, Any]:
        with self.lock:
            digest = hashlib.sha1(  # noqa: S324 - an identifier, not a secret
                f"{kind.plural}:{self._next_id}:{name}".encode()
            ).hexdigest()
            created = self._add(kind.plural, digest, name, field_type, custom=True)
            if field_type in ("enum", "set"):
                created["options"] = [
                    {"id": n, "label": o["label"] if isinstance(o, dict) else str(o)}
                    for n, o in enumerate(options, start=1)
                ]
            return created

    def _add(
        self, plural: str, key: str, label: str, field_type: str, custom: bool
    ) -> dict[str, Any]:
        now = self.clock()
        entry: dict[str, Any] = {
            "id": self._next_id,
            "key": key,
            "name": label,
            "order_nr": len(self.fields[plural]) + 1,
            "field_type": field_type,
            "add_time": now,
            "update_time": now,
            "active_flag": True,
            "edit_flag": custom,
            "index_visible_flag": True,
            "details_visible_flag": True,
            "add_visible_flag": True,
            "important_flag": False,
            "bulk_edit_allowed": True,
            "searchable_flag": custom,
            "filtering_allowed": True,
            "sortable_flag": True,
            "mandatory_flag": key in ("name", "title"),
        }
        self._next_id += 1
        self.fields[plural].append(entry)
        return entry
