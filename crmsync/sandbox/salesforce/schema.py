"""The sObject types the sandbox knows: fields, types and write rules.

Each object has the system fields every Salesforce record carries (Id, IsDeleted,
CreatedDate, LastModifiedDate, SystemModstamp, ...), its standard fields, and two
custom fields: ``External_Id__c`` (a unique external id, the usual upsert key) and
``Legacy_Id__c`` (an external id that is not unique, so an upsert can match several
records). Extra custom fields can be added per sandbox with `with_custom_fields`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Field:
    """One field as describe reports it."""

    name: str
    type: str = "string"
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    default: Any = None
    external_id: bool = False
    unique: bool = False
    reference_to: tuple[str, ...] = ()
    picklist: tuple[str, ...] = ()

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def filterable(self) -> bool:
        """Long text areas can be neither filtered nor sorted on in SOQL."""
        return not (self.type == "textarea" and self.length > 255)

    @property
    def initial(self) -> Any:
        """The value a new record starts with (checkboxes are never null)."""
        if self.default is None and self.type == "boolean":
            return False
        return self.default

    @property
    def required(self) -> bool:
        """Must be given on create: not nillable, writable, and no default."""
        return (
            not self.nillable
            and self.createable
            and self.default is None
            and self.type != "boolean"
        )


@dataclass(frozen=True)
class SObjectType:
    """An sObject: name, key prefix (first 3 characters of its ids) and fields."""

    name: str
    key_prefix: str
    label_plural: str
    fields: tuple[Field, ...]
    _by_lower: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_lower.update({f.name.lower(): f for f in self.fields})

    def field(self, name: str) -> Field | None:
        """The field called `name` (field names are case-insensitive)."""
        return self._by_lower.get(name.lower())

    @cached_property
    def external_ids(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.external_id)

    @cached_property
    def required(self) -> tuple[str, ...]:
        """Names of the fields a create must give."""
        return tuple(f.name for f in self.fields if f.required)

    @cached_property
    def compound_name(self) -> bool:
        """Whether ``Name`` is derived from FirstName and LastName (Contact, Lead)."""
        name = self.field("Name")
        return name is not None and not name.createable and self.field("LastName") is not None

    @cached_property
    def initial(self) -> dict[str, Any]:
        """Field name -> the value a new record starts with."""
        return {f.name: f.initial for f in self.fields}


def _f(name: str, type_: str = "string", length: int = 0, **kw: Any) -> Field:
    sizes = {
        "string": 255,
        "email": 80,
        "phone": 40,
        "url": 255,
        "textarea": 32000,
        "picklist": 255,
        "combobox": 255,
        "id": 18,
        "reference": 18,
    }
    label = kw.pop("label", None) or name.removesuffix("__c").replace("_", " ")
    return Field(name, type_, label, length or sizes.get(type_, 0), **kw)


def _system(parent: str) -> list[Field]:
    read_only = {"createable": False, "updateable": False}
    return [
        _f("Id", "id", nillable=False, **read_only),
        _f("IsDeleted", "boolean", nillable=False, **read_only),
        _f("OwnerId", "reference", reference_to=("User",), nillable=False, default="owner"),
        _f("CreatedDate", "datetime", nillable=False, **read_only),
        _f("CreatedById", "reference", reference_to=("User",), nillable=False, **read_only),
        _f("LastModifiedDate", "datetime", nillable=False, **read_only),
        _f("LastModifiedById", "reference", reference_to=("User",), nillable=False, **read_only),
        _f("SystemModstamp", "datetime", nillable=False, **read_only),
        _f(
            "External_Id__c",
            external_id=True,
            unique=True,
            length=80,
            label=f"{parent} External Id",
        ),
        _f("Legacy_Id__c", external_id=True, length=80),
    ]


def _person() -> list[Field]:
    return [
        _f("FirstName", length=40),
        _f("LastName", length=80, nillable=False),
        # The compound full name: read-only, derived from FirstName and LastName.
        _f("Name", length=121, createable=False, updateable=False),
        _f("Title", length=128),
        _f("Email", "email"),
        _f("Phone", "phone"),
        _f("MobilePhone", "phone"),
    ]


def _address(prefix: str) -> list[Field]:
    parts = (
        ("Street", "textarea", 255),
        ("City", "string", 40),
        ("State", "string", 80),
        ("PostalCode", "string", 20),
        ("Country", "string", 80),
    )
    return [_f(prefix + name, kind, length=size) for name, kind, size in parts]


_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")


def _lead() -> SObjectType:
    return SObjectType(
        "Lead",
        "00Q",
        "Leads",
        (
            *_system("Lead"),
            *_person(),
            _f("Company", nillable=False),
            *_address(""),
            _f(
                "Status",
                "picklist",
                nillable=False,
                default="Open - Not Contacted",
                picklist=(
                    "Open - Not Contacted",
                    "Working - Contacted",
                    "Closed - Converted",
                    "Closed - Not Converted",
                ),
            ),
            _f("LeadSource", "picklist", picklist=_SOURCES),
            _f("Description", "textarea"),
            _f("HasOptedOutOfEmail", "boolean", nillable=False),
            _f("IsConverted", "boolean", nillable=False, updateable=False),
            _f("Score__c", "double"),
            # the listing the lead asks about (a lookup to the custom object below)
            _f("Property__c", "reference", reference_to=("Property__c",)),
        ),
    )


def _contact() -> SObjectType:
    return SObjectType(
        "Contact",
        "003",
        "Contacts",
        (
            *_system("Contact"),
            *_person(),
            _f("AccountId", "reference", reference_to=("Account",)),
            *_address("Mailing"),
            _f("Birthdate", "date"),
            _f("LeadSource", "picklist", picklist=_SOURCES),
            _f("Description", "textarea"),
            _f("HasOptedOutOfEmail", "boolean", nillable=False),
            _f("DoNotCall", "boolean", nillable=False),
        ),
    )


def _account() -> SObjectType:
    return SObjectType(
        "Account",
        "001",
        "Accounts",
        (
            *_system("Account"),
            _f("Name", nillable=False),
            _f("Website", "url"),
            _f("Phone", "phone"),
            _f(
                "Industry",
                "picklist",
                picklist=("Banking", "Finance", "Insurance", "Technology", "Other"),
            ),
            _f("Type", "picklist", picklist=("Prospect", "Customer - Direct", "Partner")),
            *_address("Billing"),
            _f("NumberOfEmployees", "int"),
            _f("AnnualRevenue", "currency"),
            _f("Description", "textarea"),
        ),
    )


def _opportunity() -> SObjectType:
    return SObjectType(
        "Opportunity",
        "006",
        "Opportunities",
        (
            *_system("Opportunity"),
            _f("Name", length=120, nillable=False),
            _f("AccountId", "reference", reference_to=("Account",)),
            _f(
                "StageName",
                "picklist",
                nillable=False,
                picklist=(
                    "Prospecting",
                    "Qualification",
                    "Proposal/Price Quote",
                    "Negotiation/Review",
                    "Closed Won",
                    "Closed Lost",
                ),
            ),
            _f("CloseDate", "date", nillable=False),
            _f("Amount", "currency"),
            _f("Probability", "percent"),
            _f("Type", "picklist", picklist=("New Customer", "Existing Customer")),
            _f("LeadSource", "picklist", picklist=_SOURCES),
            _f("Description", "textarea"),
            _f("IsClosed", "boolean", nillable=False, createable=False, updateable=False),
            _f("IsWon", "boolean", nillable=False, createable=False, updateable=False),
        ),
    )


def _task() -> SObjectType:
    return SObjectType(
        "Task",
        "00T",
        "Tasks",
        (
            *_system("Task"),
            _f("Subject", "combobox"),
            _f("ActivityDate", "date"),
            _f(
                "Status",
                "picklist",
                nillable=False,
                default="Not Started",
                picklist=(
                    "Not Started",
                    "In Progress",
                    "Completed",
                    "Waiting on someone else",
                    "Deferred",
                ),
            ),
            _f(
                "Priority",
                "picklist",
                nillable=False,
                default="Normal",
                picklist=("High", "Normal", "Low"),
            ),
            _f("WhoId", "reference", reference_to=("Contact", "Lead")),
            _f("WhatId", "reference", reference_to=("Account", "Opportunity")),
            _f("Type", "picklist", picklist=("Call", "Email", "Meeting", "Other")),
            _f("TaskSubtype", "picklist", picklist=("Task", "Email", "Call")),
            _f("Description", "textarea"),
            _f("IsClosed", "boolean", nillable=False, createable=False, updateable=False),
        ),
    )


def _property() -> SObjectType:
    # A custom object (``__c``): a realtor org's listings, as its admin defines them.
    # Custom objects take key prefixes from a0 up; their Name is a required text field.
    return SObjectType(
        "Property__c",
        "a0P",
        "Properties",
        (
            *_system("Property__c"),
            _f("Name", length=80, nillable=False),
            _f("Price__c", "currency"),
            _f("Currency__c", length=3),
            _f("City__c", length=100),
            _f("Locality__c", length=100),
            _f(
                "Status__c",
                "picklist",
                picklist=("Available", "Under Offer", "Sold", "Rented", "Withdrawn"),
            ),
        ),
    )


def _note() -> SObjectType:
    # The classic note on a record (Object Reference "Note"): ParentId is required and
    # set on create only, Title is required, Body holds up to 32 KB.
    return SObjectType(
        "Note",
        "002",
        "Notes",
        (
            *_system("Note"),
            _f(
                "ParentId",
                "reference",
                nillable=False,
                updateable=False,
                reference_to=("Contact", "Lead", "Account", "Opportunity", "Property__c"),
            ),
            _f("Title", length=80, nillable=False),
            _f("Body", "textarea"),
            _f("IsPrivate", "boolean", nillable=False),
        ),
    )


def _contact_role() -> SObjectType:
    # the role of a contact on an opportunity; it has no owner of its own
    kept = [f for f in _system("OpportunityContactRole") if f.name in _ROLE_SYSTEM]
    return SObjectType(
        "OpportunityContactRole",
        "00K",
        "Opportunity Contact Roles",
        (
            *kept,
            _f("OpportunityId", "reference", nillable=False, reference_to=("Opportunity",)),
            _f("ContactId", "reference", nillable=False, reference_to=("Contact",)),
            _f(
                "Role",
                "picklist",
                picklist=("Business User", "Decision Maker", "Economic Buyer", "Other"),
            ),
            _f("IsPrimary", "boolean", nillable=False),
        ),
    )


_ROLE_SYSTEM = frozenset(
    {"Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById"}
    | {"SystemModstamp"}
)


def _user() -> SObjectType:
    # Users are read-only here: the org's users exist from the start (the API user and
    # a human one), as licences are not something an integration creates.
    locked = {"createable": False, "updateable": False}
    return SObjectType(
        "User",
        "005",
        "Users",
        (
            _f("Id", "id", nillable=False, **locked),
            _f("IsDeleted", "boolean", nillable=False, **locked),
            _f("Username", "string", 80, nillable=False, **locked),
            _f("Email", "email", nillable=False, **locked),
            _f("FirstName", "string", 40, **locked),
            _f("LastName", "string", 80, nillable=False, **locked),
            _f("Name", "string", 121, **locked),
            _f("IsActive", "boolean", nillable=False, **locked),
            _f("CreatedDate", "datetime", nillable=False, **locked),
            _f("LastModifiedDate", "datetime", nillable=False, **locked),
            _f("SystemModstamp", "datetime", nillable=False, **locked),
        ),
    )


def standard_objects() -> dict[str, SObjectType]:
    """Lead, Contact, Account, Opportunity, OpportunityContactRole, Task, User, Note and
    the custom Property__c, keyed by name."""
    objects = (
        _lead(),
        _contact(),
        _account(),
        _opportunity(),
        _contact_role(),
        _task(),
        _user(),
        _property(),
        _note(),
    )
    return {o.name: o for o in objects}


def with_custom_fields(
    objects: Mapping[str, SObjectType], extra: Mapping[str, Iterable[Field]]
) -> dict[str, SObjectType]:
    """`objects` with extra custom fields (names must end in ``__c``)."""
    result = dict(objects)
    for name, fields in extra.items():
        added = tuple(fields)
        if any(not f.custom for f in added):
            raise ValueError("custom field names end in __c")
        base = result[name]
        result[name] = replace(base, fields=base.fields + added, _by_lower={})
    return result
