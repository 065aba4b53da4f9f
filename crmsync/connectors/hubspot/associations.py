"""References as HubSpot associations (v4).

A HubSpot record does not hold the id of a related record in a property: the relation
is an association with a type id. The mapping writes a reference to the pseudo-property
``associations:<to object type>`` (``associations:contacts`` on a deal); this module
takes those out of a payload, sends them as create-time ``associations`` or, for an
existing record, through the v4 batch endpoints, and reads them back into the same
pseudo-properties so that polls see a changed association as a changed property.

A record holds one reference per target type, so setting one replaces the previous
association of that type (HubSpot itself would keep both).

A custom object (a realtor portal's listings, crmsync ``properties``) has no
HubSpot-defined association types: its type ids are the portal's own. Those references,
and the ones whose HubSpot-defined id the reference material does not give (a call's
contact), are written with HubSpot's default association (``batch/associate/default``)
after the record is saved, and read back as the record's first association of that type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crmsync.connectors.base import Payload, RemoteRecord
from crmsync.connectors.http.client import ConnectorHttp

PREFIX = "associations:"
HUBSPOT_DEFINED = "HUBSPOT_DEFINED"

# (from object type, to object type) -> HubSpot-defined association type id. A
# contact's and a deal's company is their primary company (types 1 and 5).
ASSOCIATION_TYPES: Mapping[tuple[str, str], int] = {
    ("contacts", "companies"): 1,
    ("deals", "contacts"): 3,
    ("deals", "companies"): 5,
    ("notes", "contacts"): 202,
    ("notes", "companies"): 190,
    ("notes", "deals"): 214,
    ("notes", "tickets"): 228,
    ("tickets", "contacts"): 16,
    ("tickets", "companies"): 26,
    ("tickets", "deals"): 28,
    ("tasks", "contacts"): 204,
}

# crmsync types a portal keeps in a custom object of its own (named per integration)
CUSTOM = frozenset({"properties"})
# from object type -> the types its records reference by the default association
UNTYPED: Mapping[str, tuple[str, ...]] = {
    "contacts": ("properties",),
    "calls": ("contacts", "deals"),
    "tasks": ("deals",),
}

Associations = dict[str, str]  # to object type -> to record id


def targets_of(object_type: str, custom: Mapping[str, str] | None = None) -> list[str]:
    """The object types records of ``object_type`` can reference (``custom``: the custom
    objects the portal has, crmsync type -> type id)."""
    found = [to for (source, to) in ASSOCIATION_TYPES if source == object_type]
    untyped = UNTYPED.get(object_type, ())
    return found + [t for t in untyped if t not in CUSTOM or t in (custom or {})]


def untyped_only(object_type: str, found: Associations) -> Associations:
    """The references of ``found`` made by the default association (after a create)."""
    return {t: i for t, i in found.items() if t in UNTYPED.get(object_type, ())}


def split(payload: Payload) -> tuple[dict[str, Any], Associations]:
    """The payload without its association pseudo-properties, and those (non-empty)."""
    plain: dict[str, Any] = {}
    found: Associations = {}
    for key, value in payload.items():
        if key.startswith(PREFIX):
            if value not in (None, ""):
                found[key.removeprefix(PREFIX)] = str(value)
        else:
            plain[key] = value
    return plain, found


def _spec(object_type: str, to_type: str) -> dict[str, Any]:
    return {
        "associationCategory": HUBSPOT_DEFINED,
        "associationTypeId": ASSOCIATION_TYPES[(object_type, to_type)],
    }


def create_inputs(object_type: str, found: Associations) -> list[dict[str, Any]]:
    """The ``associations`` of a batch-create input."""
    return [
        {"to": {"id": to_id}, "types": [_spec(object_type, to_type)]}
        for to_type, to_id in sorted(found.items())
        if (object_type, to_type) in ASSOCIATION_TYPES
    ]


class AssociationWriter:
    """Associations of existing records, set through the v4 batch endpoints."""

    def __init__(self, http: ConnectorHttp, custom: Mapping[str, str] | None = None):
        self.http = http
        self.custom = dict(custom or {})  # crmsync type -> the portal's custom object id

    def _path(self, object_type: str) -> str:
        return self.custom.get(object_type, object_type)

    def read(
        self, object_type: str, to_type: str, ids: Sequence[str]
    ) -> dict[str, list[tuple[str, set[int]]]]:
        """from id -> [(to id, its type ids)] (HubSpot's order)."""
        out: dict[str, list[tuple[str, set[int]]]] = {}
        for start in range(0, len(ids), 100):
            inputs = [{"id": i} for i in ids[start : start + 100]]
            path = f"{self._path(object_type)}/{self._path(to_type)}"
            body = self.http.post(
                f"/crm/v4/associations/{path}/batch/read",
                json={"inputs": inputs},
                idempotent=True,
            ).json()
            for result in body.get("results") or []:
                edges = [
                    (
                        str(edge.get("toObjectId")),
                        {int(t.get("typeId", 0)) for t in edge.get("associationTypes") or []},
                    )
                    for edge in result.get("to") or []
                ]
                out[str((result.get("from") or {}).get("id"))] = edges
        return out

    def replace(self, object_type: str, wanted: Mapping[str, Associations]) -> None:
        """Point each record (remote id -> associations) at its targets, dropping its
        other associations of the same type."""
        by_target: dict[str, dict[str, str]] = {}
        targets = set(targets_of(object_type, self.custom))
        for from_id, found in wanted.items():
            for to_type, to_id in found.items():
                if to_type in targets:
                    by_target.setdefault(to_type, {})[from_id] = to_id
        for to_type, pairs in sorted(by_target.items()):
            type_id = ASSOCIATION_TYPES.get((object_type, to_type))
            path = f"/crm/v4/associations/{self._path(object_type)}/{self._path(to_type)}/batch"
            current = self.read(object_type, to_type, sorted(pairs))
            stale = []
            for from_id, edges in current.items():
                # a custom object's associations are all of the one (portal's) kind
                gone = [
                    t
                    for t, kinds in edges
                    if (type_id is None or type_id in kinds) and t != pairs.get(from_id)
                ]
                if gone:
                    stale.append({"from": {"id": from_id}, "to": [{"id": t} for t in gone]})
            if stale:
                self.http.post(f"{path}/archive", json={"inputs": stale}, idempotent=True)
            inputs: list[dict[str, Any]] = [
                {"from": {"id": f}, "to": {"id": t}} for f, t in sorted(pairs.items())
            ]
            if type_id is None:
                action = "associate/default"
            else:
                action = "create"
                for item in inputs:
                    item["types"] = [_spec(object_type, to_type)]
            self.http.post(f"{path}/{action}", json={"inputs": inputs}, idempotent=True)

    def attach(self, object_type: str, records: list[RemoteRecord]) -> list[RemoteRecord]:
        """The records with their associations as ``associations:<type>`` properties
        (the association of the mapped type first, else the first one)."""
        if not records:
            return records
        ids = [r.remote_id for r in records]
        extra: dict[str, dict[str, str]] = {i: {} for i in ids}
        for to_type in targets_of(object_type, self.custom):
            type_id = ASSOCIATION_TYPES.get((object_type, to_type))
            for from_id, edges in self.read(object_type, to_type, ids).items():
                if not edges or from_id not in extra:
                    continue
                typed = [t for t, k in edges if type_id in k]
                extra[from_id][PREFIX + to_type] = (typed or [edges[0][0]])[0]
        return [
            RemoteRecord(
                r.remote_id,
                {**r.properties, **extra[r.remote_id]},
                r.modified_at,
                r.archived,
                r.field_times,
            )
            if extra[r.remote_id]
            else r
            for r in records
        ]
