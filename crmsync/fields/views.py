"""Views of the field table that several layers read: types, enums, relations, words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from crmsync.fields.spec import CanonicalField, FieldType
from crmsync.fields.table import TABLE, ObjectType

FIELD_TYPES: Final[dict[ObjectType, dict[str, FieldType]]] = {
    object_type: {f.name: f.type for f in spec.fields} for object_type, spec in TABLE.items()
}
"""Record type -> field name -> field type, in the table's order."""

# The record types a lead file can fill (imports); the others come from apps and CRMs.
IMPORT_TYPES: Final = tuple(t for t, spec in TABLE.items() if spec.importable)

ENUM_VALUES: Final[dict[tuple[ObjectType, str], tuple[str, ...]]] = {
    (object_type, f.name): f.values
    for object_type, spec in TABLE.items()
    for f in spec.fields
    if f.type is FieldType.ENUM
}
"""Allowed values of the canonical enum fields, by (record type, field)."""


def all_fields() -> list[tuple[ObjectType, CanonicalField]]:
    """Every field of the table with its record type, in the table's order."""
    return [(t, f) for t, spec in TABLE.items() for f in spec.fields]


@dataclass(frozen=True, slots=True)
class Relation:
    """A canonical field of ``source`` records that holds the crmsync id of a ``target``
    record. Outbound it becomes the CRM's id of that record, inbound the other way round
    (``sync.references``); the mapping says which remote property carries it."""

    source: str  # record type holding the reference ("deals")
    field: str  # its field ("contact_id")
    target: str  # record type it points to ("contacts")


# Every reference between canonical records: the table's fields with a relation. No
# record type reaches itself through them (a test checks): pushing parents first can
# therefore never wait in a cycle.
RELATIONS: Final[tuple[Relation, ...]] = tuple(
    Relation(str(t), f.name, f.relation) for t, f in all_fields() if f.relation is not None
)


def _words(attribute: str) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for _, f in all_fields():
        words = getattr(f, attribute)
        if words and f.name not in found:
            found[f.name] = words
    return found


# Header spellings by field name (a name means the same words in every record type).
SYNONYMS: Final = _words("synonyms")
TRANSLATIONS: Final = _words("translations")
# Spellings that mean one record type's field before any other of the same spelling.
PREFERRED: Final[dict[ObjectType, dict[str, tuple[str, ...]]]] = {
    t: {f.name: f.preferred for f in spec.fields if f.preferred}
    for t, spec in TABLE.items()
    if any(f.preferred for f in spec.fields)
}
