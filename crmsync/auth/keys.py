"""Create and verify API keys. A key is ``csk_<prefix>_<secret>``; only its hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.auth.permissions import Role
from crmsync.store.models import ApiKey, Workspace

KEY_PREFIX = "csk"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, its workspace and its role."""

    key_id: uuid.UUID
    workspace_id: uuid.UUID
    role: Role


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    session: Session, workspace_id: uuid.UUID, role: Role, name: str = ""
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plaintext, which is never stored or shown again."""
    if session.get(Workspace, workspace_id) is None:
        raise LookupError(f"no workspace with id {workspace_id}")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{KEY_PREFIX}_{prefix}_{secret}"
    key = ApiKey(
        workspace_id=workspace_id, role=role.value, name=name, prefix=prefix, key_hash=_hash(secret)
    )
    session.add(key)
    session.flush()
    return key, plaintext


def authenticate(session: Session, presented: str) -> Principal | None:
    """The principal for a presented key, or None when it is unknown, malformed or revoked."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.key_hash, _hash(parts[2])):
        return None
    now = datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now  # the caller commits it with its own work
    return Principal(key_id=key.id, workspace_id=key.workspace_id, role=Role(key.role))


def revoke_api_key(session: Session, workspace_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    key = session.get(ApiKey, key_id)
    if key is None or key.workspace_id != workspace_id or key.revoked_at is not None:
        return False
    key.revoked_at = datetime.now(UTC)
    return True
