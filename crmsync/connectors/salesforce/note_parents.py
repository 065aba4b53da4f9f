"""A classic Note's one parent: its contact, else its deal, else its lead.

A Note hangs on exactly one record through ``ParentId``, a lookup that may point at a
Contact, a Lead, an Account or an Opportunity, and is set when the note is created (it
cannot be updated). crmsync's note may name a contact, a deal and a lead. The mapping
writes the contact's id to ``ParentId``, the deal's to the pseudo-field
``ParentId:Opportunity`` and the lead's to ``ParentId:Lead``; a new note's payload gets
the first of them that holds an id, in that fixed order (``PRECEDENCE``: contact, then
deal, then lead, whatever the order of the payload's keys), so a note about a deal or a
lead alone hangs on that record instead of being refused. Read back, a Note whose
``ParentId`` is an Opportunity or a Lead (by its key prefix) shows that id under the
pseudo-field (and no ``ParentId``), so each reference comes back in the field it went out
in: the deal or the lead, never a contact that does not exist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from crmsync.connectors.base import Payload, RemoteRecord

PARENT = "ParentId"
PREFIX = PARENT + ":"
# Key prefixes (an id's first three characters) of the standard objects a pseudo-field
# may name: the same in every org.
KEY_PREFIXES: Mapping[str, str] = {"006": "Opportunity", "00Q": "Lead"}
# Which parent a new note gets when several are set: the contact (plain ParentId) first,
# then these pseudo-fields in this order.
PRECEDENCE: tuple[str, ...] = (PREFIX + "Opportunity", PREFIX + "Lead")


def _empty(value: Any) -> bool:
    return value is None or value == ""


def fold(payload: Payload) -> Payload:
    """The payload with its ``ParentId:<sObject>`` pseudo-fields folded into
    ``ParentId``: on a create, the first id among ``ParentId`` and them (``PRECEDENCE``);
    on an update (``Id`` given) none, since a Note's parent is set once."""
    if not any(key.startswith(PREFIX) for key in payload):
        return payload
    plain = {k: v for k, v in payload.items() if not k.startswith(PREFIX)}
    if payload.get("Id") or payload.get("id") or not _empty(plain.get(PARENT)):
        return plain
    found = [payload[k] for k in PRECEDENCE if not _empty(payload.get(k))]
    if found:
        plain[PARENT] = found[0]
    return plain


def unfold(records: Sequence[RemoteRecord]) -> list[RemoteRecord]:
    """Notes read back: a ``ParentId`` of an object a pseudo-field names moves there."""
    out = []
    for record in records:
        parent = record.properties.get(PARENT)
        sobject = KEY_PREFIXES.get(str(parent)[:3]) if not _empty(parent) else None
        if sobject is not None:
            properties = {k: v for k, v in record.properties.items() if k != PARENT}
            properties[PREFIX + sobject] = parent
            record = dataclasses.replace(record, properties=properties)
        out.append(record)
    return out
