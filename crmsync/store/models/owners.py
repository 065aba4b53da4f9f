"""CRM owners: each integration's CRM users as last listed, cached with a time to live.

``CrmOwner`` holds one user per (integration, remote id); ``email_key`` (trimmed,
lower-cased) is what matches it to the e-mail in a record's ``owner``/``assigned_agent``
field and to a crmsync ``User`` (``crmsync.owners.users``). ``OwnerListing``
says when the integration's users were last listed, and the error of the last try.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, JSONType, utcnow


class CrmOwner(IdMixin, Base):
    __tablename__ = "crm_owners"
    __table_args__ = (
        UniqueConstraint("integration_id", "remote_id", name="uq_crm_owners_remote"),
        Index("ix_crm_owners_email", "integration_id", "email_key"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    remote_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    email_key: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # other handles the CRM takes for the user (Total Expert username, external id)
    aliases: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    listed_at: Mapped[datetime] = mapped_column(default=utcnow)


class OwnerListing(Base):
    __tablename__ = "crm_owner_listings"

    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    listed_at: Mapped[datetime | None]
    attempted_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
