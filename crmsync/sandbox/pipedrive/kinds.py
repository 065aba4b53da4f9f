"""The Pipedrive entities the sandbox serves, as data rather than per-entity code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One Pipedrive entity: its URL name, webhook name and how its records behave."""

    plural: str  # URL segment: /v1/persons
    singular: str  # webhook `object`/`entity` and error messages
    required: tuple[str, ...]  # fields a create must carry (`name`, `title`, ...)
    fields_path: str | None  # /v1/personFields; None when the entity has no custom fields
    has_v2: bool  # served under /api/v2 as well
    uuid_ids: bool = False  # leads use UUIDs
    create_status: int = 201
    searchable: tuple[str, ...] = ()  # fields persons/search etc. look in
    relations: tuple[str, ...] = ()  # at least one must be set on create (notes, leads)


PERSON = Kind(
    "persons",
    "person",
    ("name",),
    "personFields",
    has_v2=True,
    searchable=("name", "email", "phone", "custom_fields"),
)
ORGANIZATION = Kind(
    "organizations",
    "organization",
    ("name",),
    "organizationFields",
    has_v2=True,
    searchable=("name", "address", "custom_fields"),
)
DEAL = Kind(
    "deals",
    "deal",
    ("title",),
    "dealFields",
    has_v2=True,
    searchable=("title", "custom_fields"),
)
LEAD = Kind(
    "leads",
    "lead",
    ("title",),
    None,
    has_v2=False,
    uuid_ids=True,
    searchable=("title",),
    relations=("person_id", "organization_id"),
)
ACTIVITY = Kind("activities", "activity", (), "activityFields", has_v2=True)
NOTE = Kind(
    "notes",
    "note",
    ("content",),
    None,
    has_v2=False,
    create_status=200,
    relations=("lead_id", "deal_id", "person_id", "org_id", "project_id"),
)

KINDS: dict[str, Kind] = {k.plural: k for k in (PERSON, ORGANIZATION, DEAL, LEAD, ACTIVITY, NOTE)}
BY_SINGULAR: dict[str, Kind] = {k.singular: k for k in KINDS.values()}
BY_FIELDS_PATH: dict[str, Kind] = {k.fields_path: k for k in KINDS.values() if k.fields_path}
