"""Touchpoints and campaigns: what lead attribution credits.

A **Touchpoint** is one marketing touch of a contact or a lead (a social post engaged, an
ad clicked, a page visited, a message sent): when, on which channel and platform, for
which campaign, with its UTM fields and cost. A **Campaign** groups touchpoints (and the
CRM's campaigns) so conversions, revenue and cost per conversion can be read by campaign.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, utcnow

Str255 = String(255)


class Campaign(IdMixin, Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Str255)
    channel: Mapped[str | None] = mapped_column(String(100))
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    budget: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignLink(IdMixin, Base):
    """A CRM's own campaign (a HubSpot marketing campaign, a Salesforce Campaign) linked to
    a crmsync campaign: one CRM campaign is linked once per integration."""

    __tablename__ = "campaign_links"
    __table_args__ = (UniqueConstraint("integration_id", "remote_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    provider: Mapped[str] = mapped_column(String(50))
    remote_id: Mapped[str] = mapped_column(String(100))
    remote_name: Mapped[str | None] = mapped_column(Str255)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Touchpoint(IdMixin, Base):
    __tablename__ = "touchpoints"
    __table_args__ = (
        # A touchpoint made from an app event is made once, however often it is delivered.
        UniqueConstraint("workspace_id", "event_id"),
        # Paths are read per person in time order.
        Index("ix_touchpoints_contact", "workspace_id", "contact_id", "occurred_at"),
        Index("ix_touchpoints_lead", "workspace_id", "lead_id", "occurred_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE")
    )
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str | None] = mapped_column(String(100))
    type: Mapped[str | None] = mapped_column(String(100))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    content_id: Mapped[str | None] = mapped_column(Str255)
    conversation_id: Mapped[str | None] = mapped_column(Str255)
    utm_source: Mapped[str | None] = mapped_column(Str255)
    utm_medium: Mapped[str | None] = mapped_column(Str255)
    utm_campaign: Mapped[str | None] = mapped_column(Str255)
    utm_term: Mapped[str | None] = mapped_column(Str255)
    utm_content: Mapped[str | None] = mapped_column(Str255)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
