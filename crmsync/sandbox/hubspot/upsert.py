"""`POST /crm/v3/objects/{objectType}/batch/upsert`: the bulk of sync traffic.

Upsert by a unique property (contact ``email`` or a custom ``hasUniqueValue`` one):
keys match case-insensitively, a new key is validated as a value of its property,
and any invalid input fails the whole batch before anything is written (400). Each
result carries ``new``. One request is up to 100 records, so the per-record work is
kept to dict lookups: free-text values (the usual sync payload) are checked with one
set comparison against the store's precomputed free-text names, and only the other
inputs go through per-value validation.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from crmsync.sandbox.hubspot import errors
from crmsync.sandbox.hubspot.crm import HubSpotCrm
from crmsync.sandbox.hubspot.properties import clean_values, invalid_message
from crmsync.sandbox.hubspot.records import ObjectStore, Record


def upsert_batch(
    crm: HubSpotCrm, store: ObjectStore, inputs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Create or update every input; the `SimplePublicUpsertObject` results, in order
    (live answers of the records: encode them before the next write)."""
    keys = [str(i.get("id", "")) for i in inputs]
    id_property = inputs[0].get("idProperty") if inputs else None
    if not id_property or not store.is_unique(str(id_property)):
        raise errors.validation(f"idProperty must be a unique-value property, got {id_property!r}")
    lowered = [k.lower() for k in keys]
    if len(set(lowered)) != len(lowered):
        repeated = sorted(k for k, n in Counter(lowered).items() if n > 1)
        raise errors.validation(f"Duplicate IDs found in batch input: {repeated}")
    found = store.find_many(str(id_property), lowered)
    return crm.upsert(store, _plan(crm, store, str(id_property), keys, inputs, found))


def _plan(
    crm: HubSpotCrm,
    store: ObjectStore,
    name: str,
    keys: list[str],
    inputs: list[dict[str, Any]],
    found: list[Record | None],
) -> list[tuple[Record | None, dict[str, str]]]:
    """The record each input updates (None: creates) and its validated values;
    raises VALIDATION_ERROR for the first invalid input, before anything is written."""
    plain = store.plain_names()
    planned: list[tuple[Record | None, dict[str, str]]] = []
    for key, item, record in zip(keys, inputs, found, strict=True):
        if "idProperty" in item and item["idProperty"] != name:
            raise errors.validation("All inputs must use the same idProperty")
        values = item.get("properties") or {}
        if type(values) is not dict:
            raise errors.validation("properties must be an object")
        clean: dict[str, str] = values
        if values.keys() <= plain:
            for value in values.values():
                if type(value) is not str:
                    clean = _checked(store, values)
                    break
        else:
            clean = _checked(store, values)
        if record is None:  # a new key is validated as a value of its property
            clean = {**clean, **_checked(store, {name: key})}
            if store.spec.required:
                crm.validated(store, clean, creating=True)
        stages = crm.pipelines.problems(
            store.spec.name, clean, record.properties if record is not None else {}
        )
        if stages:
            raise errors.validation(invalid_message(stages))
        planned.append((record, clean))
    return planned


def _checked(store: ObjectStore, values: dict[str, Any]) -> dict[str, str]:
    clean, problems = clean_values(store.properties, values)
    if problems:
        raise errors.validation(invalid_message(problems))
    return clean
