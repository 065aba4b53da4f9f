"""What a client may write to each record type. Unknown fields are refused by name."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    model_validator,
)

from crmsync import jsonlimits

Short = Annotated[str, StringConstraints(max_length=100)]
Text255 = Annotated[str, StringConstraints(max_length=255)]
LongText = Annotated[str, StringConstraints(max_length=100_000)]


def _in_utc_range(value: datetime) -> datetime:
    # 0001-01-01T00:00+14:00 parses, but is before the first instant UTC can hold: every
    # comparison with a stored time would then fail. A naive time is taken as UTC.
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("time is outside the range a UTC timestamp can hold") from None
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_in_utc_range)]
"""A datetime that converts to UTC (query parameters and record fields alike)."""


def _no_empty_ref(value: str | None) -> str | None:
    # "" is no reference: two records with "" would collide on the unique (type, ref).
    return value or None


ExternalRef = Annotated[Text255 | None, AfterValidator(_no_empty_ref)]


class ContactType(StrEnum):
    BORROWER = "borrower"
    LOAN_OFFICER = "loan_officer"
    REALTOR = "realtor"
    BROKER = "broker"
    PARTNER = "partner"
    CUSTOMER = "customer"


class LeadStatus(StrEnum):
    NEW = "NEW"
    CONTACTED = "CONTACTED"
    QUALIFIED = "QUALIFIED"
    VIEWING_SCHEDULED = "VIEWING_SCHEDULED"
    VIEWED = "VIEWED"
    NEGOTIATING = "NEGOTIATING"
    CONVERTED = "CONVERTED"
    LOST = "LOST"


class ActivityType(StrEnum):
    MESSAGE = "message"
    PUSH_NOTIFICATION = "push_notification"
    EMAIL = "email"
    SMS = "sms"
    CALL = "call"
    MEETING = "meeting"
    JOURNEY_STEP = "journey_step"
    MILESTONE_UPDATE = "milestone_update"
    RATE_ALERT = "rate_alert"
    POS_APPLICATION_SUBMITTED = "pos_application_submitted"


class ActivityDirection(StrEnum):
    """Which way an activity went: from the contact (inbound) or to them (outbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"


# Present in records the API returns; a client may echo them back, and they are ignored.
READ_ONLY_FIELDS = frozenset(
    {"id", "workspace_id", "version", "created_at", "updated_at", "deleted_at"}
)


class RecordIn(BaseModel):
    """Fields common to every record type."""

    # NaN/Infinity (also as the strings "NaN", "inf") have no JSON form: refused, not nulled.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    external_ref: ExternalRef = None
    custom_fields: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        # Every value must be one the stores and readers can hold (64-bit integers, no NaN,
        # no NUL or lone surrogate, bounded nesting), whatever path it came in by.
        jsonlimits.check(data, plain=False)
        # Clients may echo back a record they read; what the server owns is not applied.
        if isinstance(data, dict) and not READ_ONLY_FIELDS.isdisjoint(data):
            return {k: v for k, v in data.items() if k not in READ_ONLY_FIELDS}
        return data


class ContactIn(RecordIn):
    email: Text255 | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    first_name: Short | None = None
    last_name: Short | None = None
    company: Text255 | None = None
    company_id: uuid.UUID | None = None
    job_title: Text255 | None = None
    contact_type: ContactType | None = None
    lifecycle_stage: Annotated[str, StringConstraints(max_length=50)] | None = None
    status: Annotated[str, StringConstraints(max_length=50)] | None = None
    source: Short | None = None
    utm_source: Text255 | None = None
    utm_medium: Text255 | None = None
    utm_campaign: Text255 | None = None
    utm_term: Text255 | None = None
    utm_content: Text255 | None = None
    address_line1: Text255 | None = None
    address_line2: Text255 | None = None
    city: Short | None = None
    state: Short | None = None
    postal_code: Annotated[str, StringConstraints(max_length=20)] | None = None
    country: Short | None = None
    date_of_birth: date | None = None
    owner: Text255 | None = None
    engagement_score: float | None = None
    social_profiles: dict[str, str] | None = None


class CompanyIn(RecordIn):
    name: Text255
    domain: Text255 | None = None
    industry: Short | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    address_line1: Text255 | None = None
    city: Short | None = None
    state: Short | None = None
    postal_code: Annotated[str, StringConstraints(max_length=20)] | None = None
    country: Short | None = None
    employees: Annotated[int, Field(ge=0)] | None = None
    owner: Text255 | None = None


class LeadIn(RecordIn):
    status: LeadStatus = LeadStatus.NEW
    source: Short | None = None
    first_name: Short | None = None
    last_name: Short | None = None
    email: Text255 | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    budget_min: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None
    budget_max: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None
    preferred_areas: list[Short] | None = None
    property_ref: Text255 | None = None
    assigned_agent: Text255 | None = None
    contact_id: uuid.UUID | None = None
    notes: LongText | None = None


class DealIn(RecordIn):
    name: Text255
    pipeline: Short | None = None
    stage: Short | None = None
    amount: Annotated[Decimal, Field(max_digits=16, decimal_places=2)] | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    probability: Annotated[float, Field(ge=0, le=1)] | None = None
    close_date: date | None = None
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    owner: Text255 | None = None


class ActivityIn(RecordIn):
    type: ActivityType
    direction: ActivityDirection | None = None
    subject: Text255 | None = None
    body: LongText | None = None
    occurred_at: UtcDatetime | None = None
    data: dict[str, Any] | None = None
    contact_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None


class NoteIn(RecordIn):
    body: LongText
    author: Text255 | None = None
    contact_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None


class TicketIn(RecordIn):
    subject: Text255
    description: LongText | None = None
    status: TicketStatus = TicketStatus.OPEN
    priority: Annotated[str, StringConstraints(pattern=r"^(low|medium|high|urgent)$")] | None = None
    contact_id: uuid.UUID | None = None
    owner: Text255 | None = None


def _patch_model(create: type[RecordIn]) -> type[RecordIn]:
    """The same fields, all optional: a patch names only what changes."""
    fields: dict[str, Any] = {}
    for name, info in create.model_fields.items():
        annotation: Any = info.annotation
        if info.metadata:  # keep length limits, ranges and patterns
            annotation = Annotated.__class_getitem__((annotation, *info.metadata))  # type: ignore[attr-defined]
        fields[name] = (annotation | None, None)
    return create_model(create.__name__.replace("In", "Patch"), __base__=RecordIn, **fields)


CREATE_SCHEMAS: dict[str, type[RecordIn]] = {
    "contacts": ContactIn,
    "companies": CompanyIn,
    "leads": LeadIn,
    "deals": DealIn,
    "activities": ActivityIn,
    "notes": NoteIn,
    "tickets": TicketIn,
}
PATCH_SCHEMAS: dict[str, type[RecordIn]] = {
    name: _patch_model(schema) for name, schema in CREATE_SCHEMAS.items()
}
