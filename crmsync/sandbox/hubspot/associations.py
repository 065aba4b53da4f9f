"""Associations between records (v4): typed, labelled edges kept in both directions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"

# (from, to) -> default HUBSPOT_DEFINED association type id
DEFAULT_TYPES: dict[tuple[str, str], int] = {
    ("contact", "company"): 279,
    ("company", "contact"): 280,
    ("contact", "deal"): 4,
    ("deal", "contact"): 3,
    ("deal", "company"): 341,
    ("company", "deal"): 342,
    ("contact", "note"): 201,
    ("note", "contact"): 202,
    ("note", "company"): 190,
    ("company", "note"): 189,
    ("note", "deal"): 214,
    ("deal", "note"): 213,
    ("note", "ticket"): 228,
    ("ticket", "note"): 227,
    ("contact", "ticket"): 15,
    ("ticket", "contact"): 16,
    ("company", "ticket"): 25,
    ("ticket", "company"): 26,
    ("deal", "ticket"): 27,
    ("ticket", "deal"): 28,
    ("task", "contact"): 204,
    # call -> contact: the id HubSpot's calls API examples use (third-party copy)
    ("call", "contact"): 194,
}
# Associations with a custom object are the portal's own, not HubSpot-defined; the
# sandbox portal's listings object has these (the ids are the sandbox's).
DEFAULT_TYPES.update({("contact", "p_property"): 7001, ("p_property", "contact"): 7002})
PRIMARY_TYPES: dict[tuple[str, str], int] = {
    ("contact", "company"): 1,
    ("company", "contact"): 2,
    ("deal", "company"): 5,
    ("company", "deal"): 6,
}
_BY_ID = {(pair[0], type_id): pair[1] for pair, type_id in DEFAULT_TYPES.items()}
_BY_ID.update({(pair[0], type_id): pair[1] for pair, type_id in PRIMARY_TYPES.items()})


def target_of(from_type: str, type_id: int) -> str | None:
    """The object type a HubSpot-defined association type id points to."""
    return _BY_ID.get((from_type, type_id))


def default_type(from_type: str, to_type: str) -> int:
    """The default association type id between two object types (0 if none)."""
    return DEFAULT_TYPES.get((from_type, to_type), 0)


@dataclass(frozen=True)
class AssociationType:
    """One label of an association: category, type id, optional label."""

    category: str
    type_id: int
    label: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The `AssociationSpecWithLabel` shape."""
        return {"category": self.category, "typeId": self.type_id, "label": self.label}


Key = tuple[str, str, str]  # (from type, from id, to type)


@dataclass
class AssociationStore:
    """Edges by (from type, from id, to type) -> to id -> types."""

    edges: dict[Key, dict[str, list[AssociationType]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    # (from type, to type) -> user-defined labels (the labels API)
    labels: dict[tuple[str, str], list[AssociationType]] = field(default_factory=dict)
    _next_label: int = 100

    def known_types(self, from_type: str, to_type: str) -> list[AssociationType]:
        """Every type usable between two object types: HubSpot's default, the primary
        one where there is one, then the user-defined labels."""
        found = []
        if (from_type, to_type) in DEFAULT_TYPES:
            found.append(AssociationType(HUBSPOT_DEFINED, DEFAULT_TYPES[(from_type, to_type)]))
        if (from_type, to_type) in PRIMARY_TYPES:
            found.append(
                AssociationType(HUBSPOT_DEFINED, PRIMARY_TYPES[(from_type, to_type)], "Primary")
            )
        return found + self.labels.get((from_type, to_type), [])

    def add_label(self, from_type: str, to_type: str, label: str) -> AssociationType:
        """A new USER_DEFINED label (and its reverse, under the same name)."""
        made = AssociationType("USER_DEFINED", self._next_label, label)
        back = AssociationType("USER_DEFINED", self._next_label + 1, label)
        self._next_label += 2
        self.labels.setdefault((from_type, to_type), []).append(made)
        if (to_type, from_type) != (from_type, to_type):
            self.labels.setdefault((to_type, from_type), []).append(back)
        return made

    def add(
        self, from_type: str, from_id: str, to_type: str, to_id: str, types: list[AssociationType]
    ) -> None:
        """Associate both ways (the reverse edge gets the reverse default type)."""
        self._merge(from_type, from_id, to_type, to_id, types)
        reverse = default_type(to_type, from_type)
        back = [AssociationType(t.category, reverse or t.type_id, t.label) for t in types]
        self._merge(to_type, to_id, from_type, from_id, back)

    def remove(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """Drop the association in both directions."""
        self.edges[(from_type, from_id, to_type)].pop(to_id, None)
        self.edges[(to_type, to_id, from_type)].pop(from_id, None)

    def remove_types(
        self, from_type: str, from_id: str, to_type: str, to_id: str, types: list[AssociationType]
    ) -> None:
        """Drop some labels of an association; with none left, the association goes."""
        ids = {t.type_id for t in types}
        current = self.edges.get((from_type, from_id, to_type), {}).get(to_id, [])
        kept = [t for t in current if t.type_id not in ids]
        if not kept:
            self.remove(from_type, from_id, to_type, to_id)
        else:
            self.edges[(from_type, from_id, to_type)][to_id] = kept

    def targets(
        self, from_type: str, from_id: str, to_type: str
    ) -> dict[str, list[AssociationType]]:
        """to id -> types for one record and target type."""
        return dict(self.edges.get((from_type, from_id, to_type), {}))

    def move(self, object_type: str, old_id: str, new_id: str) -> None:
        """Re-point every edge of `old_id` to `new_id` (after a merge)."""
        for key in [k for k in self.edges if k[0] == object_type and k[1] == old_id]:
            for to_id, types in self.edges.pop(key).items():
                self.remove(object_type, old_id, key[2], to_id)
                self.add(object_type, new_id, key[2], to_id, types)

    def drop(self, object_type: str, object_id: str) -> None:
        """Remove every edge of one record (it no longer exists)."""
        for key in [k for k in self.edges if k[0] == object_type and k[1] == object_id]:
            for to_id in list(self.edges[key]):
                self.remove(object_type, object_id, key[2], to_id)

    def clear(self) -> None:
        """Forget every edge and user-defined label."""
        self.edges.clear()
        self.labels.clear()
        self._next_label = 100

    def _merge(
        self, from_type: str, from_id: str, to_type: str, to_id: str, types: list[AssociationType]
    ) -> None:
        current = self.edges[(from_type, from_id, to_type)].setdefault(to_id, [])
        for item in types:
            if item not in current:
                current.append(item)
