"""Merging two persons, organizations or deals (`PUT /v1/{entity}/{id}/merge`).

Record `id` merges into `merge_with_id`, which survives: it keeps its own values, takes
the other's values where it has none, and gains the other's emails and phones. Records
pointing at the merged-away one are moved to the survivor. The merged-away record is
deleted with `merged_to_id` set, so its delete webhook names the survivor (as Pipedrive's
v2 webhooks do: a delete with `merged_to_id` plus a change).
"""

from __future__ import annotations

import re
from typing import Any

from crmsync.sandbox.pipedrive.company import Company
from crmsync.sandbox.pipedrive.envelope import PipedriveError
from crmsync.sandbox.pipedrive.kinds import DEAL, KINDS, ORGANIZATION, PERSON, Kind
from crmsync.sandbox.pipedrive.store import SYSTEM_FIELDS, Record

MERGEABLE = (PERSON, ORGANIZATION, DEAL)
# the fields of other records that point at a record of each mergeable kind
POINTERS = {
    PERSON.plural: ("person_id",),
    ORGANIZATION.plural: ("org_id", "organization_id"),
    DEAL.plural: ("deal_id",),
}
_DIGITS = re.compile(r"\D")


def merge(company: Company, kind: Kind, record_id: Any, body: Any, source: str = "api") -> Record:
    if not isinstance(body, dict) or not str(body.get("merge_with_id", "")).isdigit():
        raise PipedriveError(400, "merge_with_id must be given.")
    loser = company.find(kind, record_id)
    survivor = company.find(kind, body["merge_with_id"])
    if loser["id"] == survivor["id"]:
        raise PipedriveError(400, f"Cannot merge a {kind.singular} with itself")
    store = company.store
    with store.lock:
        company.notify(store.update(kind, survivor, _taken_over(loser, survivor), source))
        for other in KINDS.values():
            for record in list(store.all(other)):
                moved = {
                    f: survivor["id"] for f in POINTERS[kind.plural] if record.get(f) == loser["id"]
                }
                if moved:
                    company.notify(store.update(other, record, moved, source))
        loser["merged_to_id"] = survivor["id"]
        company.notify(store.delete(kind, loser, source))
    return survivor


def _taken_over(loser: Record, survivor: Record) -> dict[str, Any]:
    """What the survivor takes from the merged-away record."""
    values: dict[str, Any] = {}
    for name, value in loser.items():
        if name in SYSTEM_FIELDS or name in ("emails", "phones", "custom_fields"):
            continue
        if survivor.get(name) in (None, "", []) and value not in (None, "", []):
            values[name] = value
    custom = {k: v for k, v in loser["custom_fields"].items() if k not in survivor["custom_fields"]}
    if custom:
        values["custom_fields"] = custom
    for name, norm in (("emails", str.lower), ("phones", lambda v: _DIGITS.sub("", v))):
        mine = survivor.get(name) or []
        seen = {norm(item["value"]) for item in mine}
        extra = [
            dict(item, primary=False)
            for item in loser.get(name) or []
            if norm(item["value"]) not in seen
        ]
        if extra:
            values[name] = [*mine, *extra]
    return values
