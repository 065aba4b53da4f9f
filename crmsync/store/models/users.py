"""People who sign in to the web app: users, their invitations, sessions and failed sign-ins.

Users belong to one workspace and carry the same roles as API keys (auth.permissions).
Only hashes are stored: argon2 for passwords, SHA-256 for session and invitation tokens.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, utcnow


class User(IdMixin, Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), index=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class UserInvitation(IdMixin, Base):
    """A link that lets one e-mail address set a password and join a workspace once."""

    __tablename__ = "user_invitations"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]


class WebSession(IdMixin, Base):
    """A signed-in browser: the cookie holds the token, the row its hash and CSRF token."""

    __tablename__ = "web_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class SignInFailure(IdMixin, Base):
    """One refused sign-in; recent rows per e-mail and per address throttle the next."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_email_at", "email", "at"),
        Index("ix_sign_in_failures_address_at", "address", "at"),
    )

    email: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
