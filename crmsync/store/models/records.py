"""Canonical records: contacts, companies, properties, leads, deals, activities, notes and
tickets.

Every record carries the common columns of DESIGN §3 (``RecordBase``): its workspace, the
app's own ``external_ref`` (unique per workspace and type), timestamps, a soft-delete
mark, a ``version`` bumped on every change, and free ``custom_fields``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import Float, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from crmsync.store.base import Base, IdMixin, JSONType, utcnow

Str100 = String(100)
Str255 = String(255)


class RecordBase(IdMixin, Base):
    __abstract__ = True
    #: The API name of the record type ("contacts"); also the table name.
    record_type: ClassVar[str]

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    external_ref: Mapped[str | None] = mapped_column(Str255)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = cls.__tablename__
        return (
            UniqueConstraint("workspace_id", "external_ref", name=f"uq_{name}_external_ref"),
            # Keyset pagination and incremental reads walk (updated_at, id) per workspace.
            Index(f"ix_{name}_updated", "workspace_id", "updated_at", "id"),
            *cls._extra_indexes(),
        )

    @classmethod
    def _extra_indexes(cls) -> tuple[Any, ...]:
        return ()


def _contact_ref() -> Mapped[uuid.UUID | None]:
    return mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))


def _list_filter_index(table: str, column: str) -> Index:
    """A record list filtered on ``column`` (``records.filters``), read in its own order."""
    return Index(f"ix_{table}_{column}_list", "workspace_id", column, "updated_at", "id")


class Contact(RecordBase):
    __tablename__ = "contacts"
    record_type = "contacts"

    email: Mapped[str | None] = mapped_column(Str255)
    # Lower-cased, trimmed email and E.164 phone: the match keys of upserts and dedup.
    email_key: Mapped[str | None] = mapped_column(Str255)
    phone: Mapped[str | None] = mapped_column(String(50))
    phone_key: Mapped[str | None] = mapped_column(String(20))
    first_name: Mapped[str | None] = mapped_column(Str100)
    last_name: Mapped[str | None] = mapped_column(Str100)
    company: Mapped[str | None] = mapped_column(Str255)
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )
    job_title: Mapped[str | None] = mapped_column(Str255)
    contact_type: Mapped[str | None] = mapped_column(String(20))
    lifecycle_stage: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str | None] = mapped_column(String(50))
    source: Mapped[str | None] = mapped_column(Str100)
    utm_source: Mapped[str | None] = mapped_column(Str255)
    utm_medium: Mapped[str | None] = mapped_column(Str255)
    utm_campaign: Mapped[str | None] = mapped_column(Str255)
    utm_term: Mapped[str | None] = mapped_column(Str255)
    utm_content: Mapped[str | None] = mapped_column(Str255)
    address_line1: Mapped[str | None] = mapped_column(Str255)
    address_line2: Mapped[str | None] = mapped_column(Str255)
    city: Mapped[str | None] = mapped_column(Str100)
    state: Mapped[str | None] = mapped_column(Str100)
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(Str100)
    date_of_birth: Mapped[date | None]
    owner: Mapped[str | None] = mapped_column(Str255)
    engagement_score: Mapped[float | None] = mapped_column(Float)
    social_profiles: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    @classmethod
    def _extra_indexes(cls) -> tuple[Any, ...]:
        return (
            Index("ix_contacts_email_key", "workspace_id", "email_key"),
            Index("ix_contacts_phone_key", "workspace_id", "phone_key"),
            # the pipeline page: the engagement spread and alerts, new this month
            Index("ix_contacts_engagement", "workspace_id", "deleted_at", "engagement_score", "id"),
            Index("ix_contacts_created", "workspace_id", "deleted_at", "created_at"),
        )


class Company(RecordBase):
    __tablename__ = "companies"
    record_type = "companies"

    name: Mapped[str] = mapped_column(Str255)
    domain: Mapped[str | None] = mapped_column(Str255)
    industry: Mapped[str | None] = mapped_column(Str100)
    phone: Mapped[str | None] = mapped_column(String(50))
    address_line1: Mapped[str | None] = mapped_column(Str255)
    city: Mapped[str | None] = mapped_column(Str100)
    state: Mapped[str | None] = mapped_column(Str100)
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(Str100)
    employees: Mapped[int | None]
    owner: Mapped[str | None] = mapped_column(Str255)

    @classmethod
    def _extra_indexes(cls) -> tuple[Any, ...]:
        return (Index("ix_companies_domain", "workspace_id", "domain"),)


class Property(RecordBase):
    """A real-estate listing (title, price, place, status) that leads ask about."""

    __tablename__ = "properties"
    record_type = "properties"

    title: Mapped[str] = mapped_column(Str255)
    price: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    city: Mapped[str | None] = mapped_column(Str100)
    locality: Mapped[str | None] = mapped_column(Str100)
    status: Mapped[str] = mapped_column(String(20), default="available")
    owner: Mapped[str | None] = mapped_column(Str255)

    @classmethod
    def _extra_indexes(cls) -> tuple[Any, ...]:
        return tuple(_list_filter_index("properties", c) for c in ("status", "city"))


class Lead(RecordBase):
    __tablename__ = "leads"
    record_type = "leads"

    status: Mapped[str] = mapped_column(String(30), default="NEW")
    source: Mapped[str | None] = mapped_column(Str100)
    first_name: Mapped[str | None] = mapped_column(Str100)
    last_name: Mapped[str | None] = mapped_column(Str100)
    email: Mapped[str | None] = mapped_column(Str255)
    phone: Mapped[str | None] = mapped_column(String(50))
    budget_min: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    budget_max: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    preferred_areas: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    property_ref: Mapped[str | None] = mapped_column(Str255)
    assigned_agent: Mapped[str | None] = mapped_column(Str255)
    contact_id: Mapped[uuid.UUID | None] = _contact_ref()
    property_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("properties.id", ondelete="SET NULL")
    )
    notes: Mapped[str | None] = mapped_column(Text)

    @classmethod
    def _extra_indexes(cls) -> tuple[Any, ...]:
        return (
            _list_filter_index("leads", "contact_id"),
            _list_filter_index("leads", "status"),
            _list_filter_index("leads", "property_id"),
            # the pipeline page counts leads per status (mine, or everyone's)
            Index("ix_leads_board", "workspace_id", "deleted_at", "status", "assigned_agent"),
            # attribution: the leads created in a period, with their contacts (covering)
            Index(
                "ix_leads_created", "workspace_id", "deleted_at", "created_at", "contact_id", "id"
            ),
        )


class Deal(RecordBase):
    __tablename__ = "deals"
    record_type = "deals"

    name: Mapped[str] = mapped_column(Str255)
    pipeline: Mapped[str | None] = mapped_column(Str100)
    stage: Mapped[str | None] = mapped_column(Str100)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    probability: Mapped[float | None] = mapped_column(Float)
    close_date: Mapped[date | None]
    contact_id: Mapped[uuid.UUID | None] = _contact_ref()
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )
    owner: Mapped[str | None] = mapped_column(Str255)

    @classmethod
    def _extra_indexes(cls) -> tuple[Any, ...]:
        return (
            *(_list_filter_index("deals", c) for c in ("contact_id", "stage", "pipeline")),
            # the pipeline page counts deals per stage (mine, one pipeline, or all)
            Index("ix_deals_board", "workspace_id", "deleted_at", "stage", "pipeline", "owner"),
        )


class Activity(RecordBase):
    __tablename__ = "activities"
    record_type = "activities"

    type: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str | None] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(Str255)
    body: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    contact_id: Mapped[uuid.UUID | None] = _contact_ref()
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    deal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))

    @classmethod
    def _extra_indexes(cls) -> tuple[Any, ...]:
        return (
            Index("ix_activities_contact", "workspace_id", "contact_id", "occurred_at"),
            _list_filter_index("activities", "contact_id"),
        )


class Note(RecordBase):
    __tablename__ = "notes"
    record_type = "notes"

    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Str255)
    contact_id: Mapped[uuid.UUID | None] = _contact_ref()
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    deal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))

    @classmethod
    def _extra_indexes(cls) -> tuple[Any, ...]:
        return (_list_filter_index("notes", "contact_id"),)


class Ticket(RecordBase):
    __tablename__ = "tickets"
    record_type = "tickets"

    subject: Mapped[str] = mapped_column(Str255)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    priority: Mapped[str | None] = mapped_column(String(20))
    contact_id: Mapped[uuid.UUID | None] = _contact_ref()
    owner: Mapped[str | None] = mapped_column(Str255)

    @classmethod
    def _extra_indexes(cls) -> tuple[Any, ...]:
        return (_list_filter_index("tickets", "contact_id"),)


RECORD_MODELS: dict[str, type[RecordBase]] = {
    m.record_type: m for m in (Contact, Company, Property, Lead, Deal, Activity, Note, Ticket)
}
