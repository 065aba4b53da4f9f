"""Users of the web app: create them, check their passwords, invite them by link.

Passwords are hashed with argon2 (argon2-cffi's defaults, RFC 9106's second profile);
invitation tokens are random and only their SHA-256 is stored. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.auth.permissions import Role
from crmsync.errors import Invalid
from crmsync.store.models import User, UserInvitation, Workspace

MIN_PASSWORD = 10
INVITATION_TTL = timedelta(days=7)
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    # Verified against when no user has the e-mail, so a wrong address costs what a wrong
    # password costs (no timing tells which addresses exist).
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(Invalid):
    """Input a person can fix; the message says what."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normal_email(email: str) -> str:
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or len(email) > 320 or " " in email:
        raise AccountError("email: an address such as name@example.com")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > 1000:
        raise AccountError("password: at most 1000 characters")
    return password


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError(f"role: one of {', '.join(r.value for r in Role)}") from None


def create_user(
    session: Session,
    workspace_id: uuid.UUID,
    email: str,
    name: str,
    role: str,
    password: str | None,
) -> User:
    """A user; without a password they cannot sign in until one is set."""
    if session.get(Workspace, workspace_id) is None:
        raise LookupError(f"no workspace with id {workspace_id}")
    address = normal_email(email)
    taken = session.scalar(
        select(User.id).where(User.workspace_id == workspace_id, User.email == address)
    )
    if taken is not None:
        raise AccountError(f"email: {address} already has an account in this workspace")
    user = User(
        workspace_id=workspace_id,
        email=address,
        name=name.strip()[:200],
        role=_role(role).value,
        password_hash=_hasher.hash(check_password(password)) if password is not None else None,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = _hasher.hash(check_password(password))


def verify(session: Session, email: str, password: str) -> User | None:
    """The enabled user with this e-mail and password, or None (wrong, unknown, disabled)."""
    try:
        address = normal_email(email)
    except AccountError:
        return None
    candidates = session.scalars(
        select(User).where(User.email == address, User.disabled_at.is_(None)).order_by(User.id)
    ).all()
    for user in candidates:
        if user.password_hash and _verified(user.password_hash, password):
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            return user
    if not candidates:
        _verified(_dummy_hash(), password)
    return None


def _verified(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def get_user(session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None or user.workspace_id != workspace_id:
        raise LookupError(f"no user with id {user_id}")
    return user


def list_users(session: Session, workspace_id: uuid.UUID) -> list[User]:
    stmt = select(User).where(User.workspace_id == workspace_id).order_by(User.email)
    return list(session.scalars(stmt))


def change_role(session: Session, user: User, role: str) -> None:
    chosen = _role(role)
    if user.role == Role.ADMIN and chosen is not Role.ADMIN:
        _keep_an_admin(session, user)
    user.role = chosen.value


def disable(session: Session, user: User) -> None:
    if user.role == Role.ADMIN:
        _keep_an_admin(session, user)
    user.disabled_at = datetime.now(UTC)


def _keep_an_admin(session: Session, user: User) -> None:
    others = session.scalar(
        select(User.id).where(
            User.workspace_id == user.workspace_id,
            User.role == Role.ADMIN.value,
            User.disabled_at.is_(None),
            User.id != user.id,
        )
    )
    if others is None:
        raise AccountError("role: a workspace keeps at least one enabled admin")


@dataclass(frozen=True)
class Invitation:
    row: UserInvitation
    token: str  # shown once, in the link


def invite(
    session: Session,
    workspace_id: uuid.UUID,
    email: str,
    name: str,
    role: str,
    invited_by: uuid.UUID | None,
) -> Invitation:
    address = normal_email(email)
    taken = session.scalar(
        select(User.id).where(User.workspace_id == workspace_id, User.email == address)
    )
    if taken is not None:
        raise AccountError(f"email: {address} already has an account in this workspace")
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = UserInvitation(
        workspace_id=workspace_id,
        email=address,
        name=name.strip()[:200],
        role=_role(role).value,
        token_hash=token_hash(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )
    session.add(row)
    session.flush()
    return Invitation(row, token)


def open_invitation(session: Session, token: str) -> UserInvitation | None:
    """The invitation of a link while it can still be accepted."""
    row = session.scalar(
        select(UserInvitation).where(UserInvitation.token_hash == token_hash(token))
    )
    if row is None or row.accepted_at is not None or row.expires_at <= datetime.now(UTC):
        return None
    return row


def accept(session: Session, invitation: UserInvitation, name: str, password: str) -> User:
    user = create_user(
        session,
        invitation.workspace_id,
        invitation.email,
        name or invitation.name,
        invitation.role,
        password,
    )
    invitation.accepted_at = datetime.now(UTC)
    return user


def pending_invitations(session: Session, workspace_id: uuid.UUID) -> list[UserInvitation]:
    stmt = (
        select(UserInvitation)
        .where(
            UserInvitation.workspace_id == workspace_id,
            UserInvitation.accepted_at.is_(None),
            UserInvitation.expires_at > datetime.now(UTC),
        )
        .order_by(UserInvitation.created_at.desc())
    )
    return list(session.scalars(stmt))
