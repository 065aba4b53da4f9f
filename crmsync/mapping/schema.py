"""The canonical schema as mappings see it: object type -> field name -> field type.

Mappings, suggestions, validation and imports are written against it. It is a view of
the field table (``crmsync.fields.table``), where fields are added. Custom fields live
under ``custom_fields.<name>`` and are not listed here.
"""

from __future__ import annotations

from typing import Final

from crmsync.fields.enums import ActivityType, ContactType, LeadStatus
from crmsync.fields.spec import FieldType
from crmsync.fields.table import ObjectType
from crmsync.fields.views import ENUM_VALUES, FIELD_TYPES, IMPORT_TYPES, RELATIONS, Relation

__all__ = [
    "ACTIVITY_TYPES",
    "CANONICAL_SCHEMA",
    "CONTACT_TYPES",
    "CUSTOM_FIELDS_PREFIX",
    "DEAL_STAGES",
    "ENUM_VALUES",
    "IMPORT_TYPES",
    "LEAD_STATUSES",
    "RELATIONS",
    "FieldType",
    "ObjectType",
    "Relation",
    "children_of",
    "field_type",
    "relations_of",
]

LEAD_STATUSES: Final = tuple(s.value for s in LeadStatus)
CONTACT_TYPES: Final = tuple(t.value for t in ContactType)
ACTIVITY_TYPES: Final = tuple(t.value for t in ActivityType)
# Canonical deal stages that the shipped status maps translate; apps may add their own.
DEAL_STAGES: Final = (
    "APPOINTMENT_SCHEDULED",
    "QUALIFIED",
    "PRESENTATION_SCHEDULED",
    "DECISION_MAKER_BOUGHT_IN",
    "CONTRACT_SENT",
    "CLOSED_WON",
    "CLOSED_LOST",
)

CANONICAL_SCHEMA: Final = FIELD_TYPES

CUSTOM_FIELDS_PREFIX: Final = "custom_fields."


def field_type(object_type: ObjectType | str, field: str) -> FieldType | None:
    """Type of a canonical field; ``custom_fields.*`` are strings; None when unknown."""
    fields = CANONICAL_SCHEMA.get(ObjectType(object_type), {})
    if field in fields:
        return fields[field]
    if field.startswith(CUSTOM_FIELDS_PREFIX) and len(field) > len(CUSTOM_FIELDS_PREFIX):
        return FieldType.STRING
    return None


def relations_of(object_type: str) -> tuple[Relation, ...]:
    """The references records of ``object_type`` hold."""
    return tuple(r for r in RELATIONS if r.source == str(object_type))


def children_of(object_type: str) -> tuple[Relation, ...]:
    """The references that point at records of ``object_type``."""
    return tuple(r for r in RELATIONS if r.target == str(object_type))
