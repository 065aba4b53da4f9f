"""The canonical schema: object type -> field name -> field type.

This is the single description of crmsync's own record fields that mappings,
suggestions, validation and imports are written against. Custom fields live under
``custom_fields.<name>`` and are not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class FieldType(StrEnum):
    """Value types a mapped field can have."""

    STRING = "string"
    EMAIL = "email"
    PHONE = "phone"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"
    LIST = "list"
    OBJECT = "object"


class ObjectType(StrEnum):
    """Record types that carry field mappings."""

    CONTACTS = "contacts"
    LEADS = "leads"
    DEALS = "deals"
    COMPANIES = "companies"
    PROPERTIES = "properties"
    ACTIVITIES = "activities"
    NOTES = "notes"
    TICKETS = "tickets"


# The record types a lead file can fill (imports); the others come from apps and CRMs.
IMPORT_TYPES: Final = (
    ObjectType.CONTACTS,
    ObjectType.LEADS,
    ObjectType.DEALS,
    ObjectType.COMPANIES,
)

LEAD_STATUSES: Final = (
    "NEW",
    "CONTACTED",
    "QUALIFIED",
    "VIEWING_SCHEDULED",
    "VIEWED",
    "NEGOTIATING",
    "CONVERTED",
    "LOST",
)
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
ACTIVITY_TYPES: Final = (
    "message",
    "push_notification",
    "email",
    "sms",
    "call",
    "task",
    "meeting",
    "journey_step",
    "milestone_update",
    "rate_alert",
    "pos_application_submitted",
)
PROPERTY_STATUSES: Final = ("available", "under_offer", "sold", "rented", "withdrawn")
CONTACT_TYPES: Final = ("borrower", "loan_officer", "realtor", "broker", "partner", "customer")

F = FieldType

CANONICAL_SCHEMA: Final[dict[ObjectType, dict[str, FieldType]]] = {
    ObjectType.CONTACTS: {
        "email": F.EMAIL,
        "phone": F.PHONE,
        "first_name": F.STRING,
        "last_name": F.STRING,
        "company": F.STRING,
        "company_id": F.STRING,
        "job_title": F.STRING,
        "contact_type": F.ENUM,
        "lifecycle_stage": F.STRING,
        "status": F.STRING,
        "source": F.STRING,
        "utm_source": F.STRING,
        "utm_medium": F.STRING,
        "utm_campaign": F.STRING,
        "utm_term": F.STRING,
        "utm_content": F.STRING,
        "address_line1": F.STRING,
        "address_line2": F.STRING,
        "city": F.STRING,
        "state": F.STRING,
        "postal_code": F.STRING,
        "country": F.STRING,
        "owner": F.STRING,
        "engagement_score": F.NUMBER,
        "social_profiles": F.OBJECT,
    },
    ObjectType.LEADS: {
        "status": F.ENUM,
        "source": F.STRING,
        "budget_min": F.NUMBER,
        "budget_max": F.NUMBER,
        "preferred_areas": F.LIST,
        "property_ref": F.STRING,
        "assigned_agent": F.STRING,
        "contact_id": F.STRING,
        "property_id": F.STRING,
        "first_name": F.STRING,
        "last_name": F.STRING,
        "email": F.EMAIL,
        "phone": F.PHONE,
        "notes": F.STRING,
    },
    ObjectType.DEALS: {
        "name": F.STRING,
        "pipeline": F.STRING,
        "stage": F.STRING,
        "amount": F.NUMBER,
        "currency": F.STRING,
        "probability": F.NUMBER,
        "close_date": F.DATE,
        "contact_id": F.STRING,
        "company_id": F.STRING,
        "owner": F.STRING,
    },
    ObjectType.COMPANIES: {
        "name": F.STRING,
        "domain": F.STRING,
        "industry": F.STRING,
        "phone": F.PHONE,
        "city": F.STRING,
        "country": F.STRING,
        "employees": F.NUMBER,
    },
    ObjectType.PROPERTIES: {
        "title": F.STRING,
        "price": F.NUMBER,
        "currency": F.STRING,
        "city": F.STRING,
        "locality": F.STRING,
        "status": F.ENUM,
        "owner": F.STRING,
    },
    ObjectType.ACTIVITIES: {
        "type": F.ENUM,
        "direction": F.STRING,
        "subject": F.STRING,
        "body": F.STRING,
        "occurred_at": F.DATETIME,
        "contact_id": F.STRING,
        "lead_id": F.STRING,
        "deal_id": F.STRING,
    },
    ObjectType.NOTES: {
        "body": F.STRING,
        "author": F.STRING,
        "contact_id": F.STRING,
        "lead_id": F.STRING,
        "deal_id": F.STRING,
    },
    ObjectType.TICKETS: {
        "subject": F.STRING,
        "description": F.STRING,
        "status": F.STRING,
        "priority": F.STRING,
        "contact_id": F.STRING,
        "owner": F.STRING,
    },
}

# Allowed values of canonical enum fields, by (object type, field).
ENUM_VALUES: Final[dict[tuple[ObjectType, str], tuple[str, ...]]] = {
    (ObjectType.CONTACTS, "contact_type"): CONTACT_TYPES,
    (ObjectType.LEADS, "status"): LEAD_STATUSES,
    (ObjectType.PROPERTIES, "status"): PROPERTY_STATUSES,
    (ObjectType.ACTIVITIES, "type"): ACTIVITY_TYPES,
}

CUSTOM_FIELDS_PREFIX: Final = "custom_fields."


def field_type(object_type: ObjectType | str, field: str) -> FieldType | None:
    """Type of a canonical field; ``custom_fields.*`` are strings; None when unknown."""
    fields = CANONICAL_SCHEMA.get(ObjectType(object_type), {})
    if field in fields:
        return fields[field]
    if field.startswith(CUSTOM_FIELDS_PREFIX) and len(field) > len(CUSTOM_FIELDS_PREFIX):
        return FieldType.STRING
    return None


@dataclass(frozen=True, slots=True)
class Relation:
    """A canonical field of ``source`` records that holds the crmsync id of a ``target``
    record. Outbound it becomes the CRM's id of that record, inbound the other way round
    (``sync.references``); the mapping says which remote property carries it."""

    source: str  # record type holding the reference ("deals")
    field: str  # its field ("contact_id")
    target: str  # record type it points to ("contacts")


# Every reference between canonical records, declared once. Parents come before their
# children in this order, and no record type reaches itself through it (a test checks):
# pushing parents first can therefore never wait in a cycle.
RELATIONS: Final[tuple[Relation, ...]] = (
    Relation("contacts", "company_id", "companies"),
    Relation("leads", "contact_id", "contacts"),
    Relation("leads", "property_id", "properties"),
    Relation("deals", "contact_id", "contacts"),
    Relation("deals", "company_id", "companies"),
    Relation("tickets", "contact_id", "contacts"),
    Relation("activities", "contact_id", "contacts"),
    Relation("activities", "lead_id", "leads"),
    Relation("activities", "deal_id", "deals"),
    Relation("notes", "contact_id", "contacts"),
    Relation("notes", "lead_id", "leads"),
    Relation("notes", "deal_id", "deals"),
)


def relations_of(object_type: str) -> tuple[Relation, ...]:
    """The references records of ``object_type`` hold."""
    return tuple(r for r in RELATIONS if r.source == str(object_type))


def children_of(object_type: str) -> tuple[Relation, ...]:
    """The references that point at records of ``object_type``."""
    return tuple(r for r in RELATIONS if r.target == str(object_type))
