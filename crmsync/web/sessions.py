"""Signed-in browsers: a random token in an HttpOnly cookie, its SHA-256 in ``web_sessions``.

Each session has its own CSRF token, which every form and htmx request sends back.
Signing out deletes the row, so a copied cookie stops working at once.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crmsync.auth.users import token_hash
from crmsync.store.models import User, WebSession

SESSION_COOKIE = "crmsync_session"
SESSION_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class SignedIn:
    """Who is using the web app: the user, their workspace and role, the session's CSRF token."""

    user_id: uuid.UUID
    workspace_id: uuid.UUID
    role: str
    email: str
    name: str
    csrf: str
    session_id: uuid.UUID


def start(session: Session, user: User) -> str:
    """A new session for ``user``; returns the cookie's token (shown only here)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(
        WebSession(
            user_id=user.id,
            token_hash=token_hash(token),
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_TTL,
        )
    )
    user.last_sign_in_at = now
    # expired sessions of this user go when a new one starts
    session.execute(
        delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now)
    )
    session.flush()
    return token


def resolve(session: Session, token: str) -> SignedIn | None:
    """The signed-in user of a cookie, or None (unknown, expired, user disabled)."""
    found = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == token_hash(token))
    ).first()
    if found is None:
        return None
    web_session, user = found
    if web_session.expires_at <= datetime.now(UTC) or user.disabled_at is not None:
        return None
    return SignedIn(
        user_id=user.id,
        workspace_id=user.workspace_id,
        role=user.role,
        email=user.email,
        name=user.name,
        csrf=web_session.csrf_token,
        session_id=web_session.id,
    )


def end(session: Session, session_id: uuid.UUID) -> None:
    session.execute(delete(WebSession).where(WebSession.id == session_id))


def end_all(session: Session, user_id: uuid.UUID) -> None:
    """Sign a user out everywhere (disabled, role changed)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
