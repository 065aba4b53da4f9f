"""The HubSpot object types the sandbox serves and their built-in properties (data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectSpec:
    """One CRM object type: its names, timestamp properties and search defaults."""

    name: str
    type_id: str
    singular: str
    created_property: str
    modified_property: str
    default_properties: tuple[str, ...]
    query_properties: tuple[str, ...]
    required: tuple[str, ...] = ()

    @property
    def custom(self) -> bool:
        """A custom object (``2-`` type ids, HubSpot "Using object APIs")."""
        return self.type_id.startswith("2-")

    @property
    def event_prefix(self) -> str:
        """Webhook subscription prefix, e.g. ``contact`` in ``contact.creation``; a
        custom object has generic subscriptions only (``object.creation``)."""
        return GENERIC if self.custom else self.singular

    def event_extra(self) -> dict[str, str]:
        """What a webhook event adds to name this object: generic events carry the
        ``objectTypeId`` (reference: "Create generic webhook subscriptions")."""
        return {"objectTypeId": self.type_id} if self.custom else {}


# the subscription type prefix of generic webhook events (``object.propertyChange``)
GENERIC = "object"


# the sandbox portal's custom object for real-estate listings
CUSTOM_PROPERTY = "p_property"
CUSTOM_PROPERTY_TYPE_ID = "2-7100001"

OBJECTS: dict[str, ObjectSpec] = {
    spec.name: spec
    for spec in (
        ObjectSpec(
            "contacts",
            "0-1",
            "contact",
            "createdate",
            "lastmodifieddate",
            ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
            (
                "firstname",
                "lastname",
                "email",
                "phone",
                "hs_additional_emails",
                "fax",
                "mobilephone",
                "company",
            ),
        ),
        ObjectSpec(
            "companies",
            "0-2",
            "company",
            "createdate",
            "hs_lastmodifieddate",
            ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
            ("website", "phone", "name", "domain"),
        ),
        ObjectSpec(
            "deals",
            "0-3",
            "deal",
            "createdate",
            "hs_lastmodifieddate",
            (
                "amount",
                "closedate",
                "createdate",
                "dealname",
                "dealstage",
                "hs_lastmodifieddate",
                "hs_object_id",
                "pipeline",
            ),
            ("dealname", "pipeline", "dealstage", "description", "dealtype"),
        ),
        ObjectSpec(
            "notes",
            "0-46",
            "note",
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
            ("hs_note_body",),
            required=("hs_timestamp",),
        ),
        ObjectSpec(
            "tickets",
            "0-5",
            "ticket",
            "createdate",
            "hs_lastmodifieddate",
            (
                "content",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
                "hs_pipeline",
                "hs_pipeline_stage",
                "hs_ticket_priority",
                "subject",
            ),
            ("subject", "content"),
            # a ticket always has a status (HubSpot tickets guide)
            required=("hs_pipeline_stage",),
        ),
        # Engagements: calls and tasks (HubSpot "Calls" and "Tasks" guides; both need
        # hs_timestamp). Their type ids come from HubSpot's list of object type ids.
        ObjectSpec(
            "calls",
            "0-48",
            "call",
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
            ("hs_call_title", "hs_call_body"),
            required=("hs_timestamp",),
        ),
        ObjectSpec(
            "tasks",
            "0-27",
            "task",
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
            ("hs_task_subject", "hs_task_body"),
            required=("hs_timestamp",),
        ),
        # A custom object ("2-" type ids are custom, HubSpot "Using object APIs"): the
        # real-estate listings a realtor portal defines. Its name, id and properties are
        # the portal admin's choice; these are the sandbox's.
        ObjectSpec(
            CUSTOM_PROPERTY,
            CUSTOM_PROPERTY_TYPE_ID,
            CUSTOM_PROPERTY,
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_createdate", "hs_lastmodifieddate", "hs_object_id", "name"),
            ("name", "city", "locality"),
            required=("name",),
        ),
    )
}


def resolve(object_type: str) -> ObjectSpec | None:
    """The spec for a path's object type: name, type id (``0-1``) or singular."""
    spec = OBJECTS.get(object_type.lower())
    if spec is not None:
        return spec
    for candidate in OBJECTS.values():
        if object_type in (candidate.type_id, candidate.singular):
            return candidate
    return None


# (name, (type, fieldType), options) per object; labels derive from names.
_TEXT = ("string", "text")
_NUM = ("number", "number")
_DATETIME = ("datetime", "date")
_DATE = ("date", "date")
_ENUM = ("enumeration", "select")
_AREA = ("string", "textarea")

LIFECYCLE = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
LEAD_STATUS = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
PRIORITY = ("LOW", "MEDIUM", "HIGH")
CALL_STATUS = (
    "BUSY",
    "CALLING_CRM_USER",
    "CANCELED",
    "COMPLETED",
    "CONNECTING",
    "FAILED",
    "IN_PROGRESS",
    "NO_ANSWER",
    "QUEUED",
    "RINGING",
)
LISTING_STATUS = ("available", "under_offer", "sold", "rented", "withdrawn")

Spec = tuple[str, tuple[str, str], tuple[str, ...]]


def _texts(names: str) -> tuple[Spec, ...]:
    return tuple((n, _TEXT, ()) for n in names.split())


_OWNED: tuple[Spec, ...] = (("hubspot_owner_id", _ENUM, ()), ("hs_merged_object_ids", _TEXT, ()))
_ADDRESS = "address city state zip country"

BUILTIN: dict[str, tuple[Spec, ...]] = {
    "contacts": (
        *_texts(
            f"email firstname lastname phone mobilephone fax company website jobtitle {_ADDRESS}"
        ),
        ("hs_additional_emails", _AREA, ()),
        ("lifecyclestage", _ENUM, LIFECYCLE),
        ("hs_lead_status", _ENUM, LEAD_STATUS),
        *_OWNED,
    ),
    "companies": (
        *_texts(f"name domain website phone industry {_ADDRESS}"),
        ("numberofemployees", _NUM, ()),
        ("annualrevenue", _NUM, ()),
        ("lifecyclestage", _ENUM, LIFECYCLE),
        *_OWNED,
    ),
    "deals": (
        *_texts("dealname dealtype"),
        # options come from the pipelines (pipelines.py checks them)
        ("pipeline", _ENUM, ()),
        ("dealstage", ("enumeration", "radio"), ()),
        ("amount", _NUM, ()),
        ("closedate", _DATETIME, ()),
        # the account's currencies (HubSpot multi-currency); any other code is refused
        ("deal_currency_code", _ENUM, ("USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY")),
        ("description", _AREA, ()),
        *_OWNED,
    ),
    "notes": (
        ("hs_timestamp", _DATETIME, ()),
        ("hs_note_body", _AREA, ()),
        ("hubspot_owner_id", _ENUM, ()),
        ("hs_attachment_ids", _TEXT, ()),
    ),
    "tickets": (
        *_texts("subject"),
        ("hs_pipeline", _ENUM, ()),
        ("hs_pipeline_stage", _ENUM, ()),
        ("content", _AREA, ()),
        ("hs_ticket_priority", _ENUM, PRIORITY),
        *_OWNED,
    ),
    "calls": (
        ("hs_timestamp", _DATETIME, ()),
        ("hs_call_title", _TEXT, ()),
        ("hs_call_body", _AREA, ()),
        ("hs_call_direction", _ENUM, ("INBOUND", "OUTBOUND")),
        ("hs_call_status", _ENUM, CALL_STATUS),
        ("hs_call_duration", _NUM, ()),
        ("hubspot_owner_id", _ENUM, ()),
    ),
    "tasks": (
        ("hs_timestamp", _DATETIME, ()),
        ("hs_task_subject", _TEXT, ()),
        ("hs_task_body", _AREA, ()),
        # the guide lists COMPLETED and NOT_STARTED; its example sends WAITING
        ("hs_task_status", _ENUM, ("NOT_STARTED", "WAITING", "COMPLETED")),
        ("hs_task_priority", _ENUM, PRIORITY),
        ("hs_task_type", _ENUM, ("EMAIL", "CALL", "TODO")),
        ("hubspot_owner_id", _ENUM, ()),
    ),
    CUSTOM_PROPERTY: (
        *_texts("name currency city locality"),
        ("price", _NUM, ()),
        ("status", _ENUM, LISTING_STATUS),
        ("hubspot_owner_id", _ENUM, ()),
    ),
}

# Read-only, computed by the CRM on every record.
SYSTEM = {
    "hs_object_id": _NUM,
    "createdate": _DATETIME,
    "lastmodifieddate": _DATETIME,
    "hs_createdate": _DATETIME,
    "hs_lastmodifieddate": _DATETIME,
}

# Properties whose values are unique per object type (usable as upsert idProperty).
UNIQUE = {"contacts": ("email",)}
