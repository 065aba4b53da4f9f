"""crmsync activities as HubSpot engagements: a call is a call (``/crm/v3/objects/calls``),
every other kind a completed task (``/crm/v3/objects/tasks``).

HubSpot keeps calls and tasks as two object types, each with its own ids and properties
(HubSpot "Calls" and "Tasks" guides: ``hs_timestamp`` is required on both; a call has
``hs_call_title``, ``hs_call_body``, ``hs_call_direction`` INBOUND|OUTBOUND and
``hs_call_status``; a task ``hs_task_subject``, ``hs_task_body``, ``hs_task_status``
COMPLETED|NOT_STARTED and ``hs_task_type`` EMAIL|CALL|TODO). crmsync has one
``activities`` type, so the mapping writes the neutral names of ``FIELDS`` and this
module turns them into the object and properties HubSpot takes, and back. A remote id
names its object: ``calls/123``, ``tasks/456``.

Inbound, a call reads back as ``call``, an EMAIL task as ``email`` and any other task as
``task``: a task is never read back as a call, so an activity never moves between the
two objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from crmsync.connectors.base import (
    ChangePage,
    Payload,
    RemoteDeletion,
    RemoteField,
    RemoteRecord,
    UpsertResult,
)
from crmsync.connectors.errors import InvalidRecord

__all__ = [
    "CALLS",
    "FIELDS",
    "KINDS",
    "TASKS",
    "changes",
    "from_remote",
    "join_id",
    "kind_of",
    "read",
    "split_id",
    "to_properties",
    "upsert",
]

CALLS = "calls"
TASKS = "tasks"
KINDS = (CALLS, TASKS)
COMPLETED = "COMPLETED"  # an activity crmsync records has happened

# the neutral names the mapping writes -> each object's property
_NAMES: Mapping[str, Mapping[str, str]] = {
    CALLS: {"subject": "hs_call_title", "body": "hs_call_body", "direction": "hs_call_direction"},
    TASKS: {"subject": "hs_task_subject", "body": "hs_task_body"},
}
_SHARED = ("hs_timestamp", "hubspot_owner_id")

FIELDS: tuple[RemoteField, ...] = (
    RemoteField("type", "Activity type (call, task, email…)", "string"),
    RemoteField("subject", "Title", "string"),
    RemoteField("body", "Notes", "string"),
    RemoteField("direction", "Direction (calls)", "string"),
    RemoteField("hs_timestamp", "When it happened", "datetime", required=True),
    RemoteField("hubspot_owner_id", "Owner", "reference"),
)


def kind_of(payload: Payload) -> str:
    """The object an activity goes to, by its type."""
    return CALLS if str(payload.get("type") or "").lower() == "call" else TASKS


def join_id(kind: str, raw: str) -> str:
    return f"{kind}/{raw}"


def split_id(remote_id: str) -> tuple[str, str] | None:
    """``(object, HubSpot id)`` of an activity's remote id; ``None`` for another shape."""
    kind, _, raw = str(remote_id).partition("/")
    return (kind, raw) if kind in KINDS and raw else None


def to_properties(kind: str, payload: Payload) -> dict[str, Any]:
    """The properties of the object for a neutral payload (association keys pass)."""
    names = _NAMES[kind]
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key in names:
            out[names[key]] = value
        elif key in _SHARED or key.startswith("associations:"):
            out[key] = value
    if kind == CALLS:
        if out.get("hs_call_direction"):
            out["hs_call_direction"] = str(out["hs_call_direction"]).upper()
        out.setdefault("hs_call_status", COMPLETED)
    else:
        out.setdefault("hs_task_status", COMPLETED)
        email = str(payload.get("type") or "").lower() == "email"
        out.setdefault("hs_task_type", "EMAIL" if email else "TODO")
    return {k: v for k, v in out.items() if v is not None}


def _neutral(kind: str) -> dict[str, str]:
    return {prop: name for name, prop in _NAMES[kind].items()}


def from_remote(kind: str, record: RemoteRecord) -> RemoteRecord:
    """A call or task read from HubSpot, under the neutral names and a joined id."""
    back = _neutral(kind)
    props = record.properties
    out: dict[str, Any] = {back.get(k, k): v for k, v in props.items()}
    if kind == CALLS:
        out["type"] = "call"
        if out.get("direction"):
            out["direction"] = str(out["direction"]).lower()
    else:
        out["type"] = "email" if str(props.get("hs_task_type") or "") == "EMAIL" else "task"
    times = None
    if record.field_times is not None:
        times = {back.get(k, k): v for k, v in record.field_times.items()}
    return RemoteRecord(
        join_id(kind, record.remote_id), out, record.modified_at, record.archived, times
    )


def upsert(
    write: Callable[[str, list[Payload]], list[UpsertResult]], payloads: Sequence[Payload]
) -> list[UpsertResult]:
    """Each activity written to its object by ``write(kind, payloads)``, ids joined; an
    existing activity stays in the object its id names."""
    results: list[UpsertResult | None] = [None] * len(payloads)
    groups: dict[str, list[tuple[int, Payload]]] = {kind: [] for kind in KINDS}
    for index, payload in enumerate(payloads):
        found = split_id(str(payload.get("id") or ""))
        kind = found[0] if found else kind_of(payload)
        body = to_properties(kind, payload)
        if found is not None:
            body["id"] = found[1]
        groups[kind].append((index, body))
    for kind, items in groups.items():
        if not items:
            continue
        written = write(kind, [p for _, p in items])
        for (index, _), result in zip(items, written, strict=True):
            if result.remote_id is not None:
                result = replace(result, remote_id=join_id(kind, result.remote_id))
            results[index] = result
    final = [r or UpsertResult.failed(InvalidRecord("HubSpot gave no result")) for r in results]
    UpsertResult.check(payloads, final)
    return final


def changes(poll: Callable[[str, str | None], ChangePage], cursor: str | None) -> ChangePage:
    """Calls and tasks, each polled by ``poll(kind, cursor)`` on its own cursor (the two
    kept together as JSON)."""
    cursors: dict[str, str | None] = json.loads(cursor) if cursor else {}
    records: list[RemoteRecord] = []
    deletions: list[RemoteDeletion] = []
    has_more = False
    for kind in KINDS:
        page = poll(kind, cursors.get(kind))
        records += [from_remote(kind, r) for r in page.records]
        deletions += [
            RemoteDeletion(join_id(kind, d.remote_id), d.deleted_at) for d in page.deletions
        ]
        cursors[kind] = page.next_cursor
        has_more = has_more or page.has_more
    return ChangePage(records, deletions, json.dumps(cursors, sort_keys=True), has_more)


def read(
    fetch: Callable[[str, Sequence[str]], list[RemoteRecord]], remote_ids: Sequence[str]
) -> list[RemoteRecord]:
    """The activities by joined id, each read from its object by ``fetch(kind, ids)``."""
    found = [f for f in map(split_id, remote_ids) if f is not None]
    out: list[RemoteRecord] = []
    for kind in KINDS:
        ids = [raw for k, raw in found if k == kind]
        if ids:
            out += [from_remote(kind, r) for r in fetch(kind, ids)]
    return out
