"""Who a CRM owner is in crmsync: the match by e-mail.

A record names its owner by e-mail (``owner``; ``assigned_agent`` of leads), and a CRM
user is matched to a crmsync user (``store.models.User``, who signs in to the web app)
of the same workspace by that e-mail, trimmed and lower-cased (``match_key``; users'
e-mails are stored lower-cased). An owner e-mail with no user is still an owner: apps
assign agents who never sign in to crmsync.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.store.models import User


def match_key(value: Any) -> str | None:
    """The key an e-mail is matched by; None for what is not an e-mail."""
    if not isinstance(value, str):
        return None
    key = value.strip().lower()
    return key if "@" in key else None


def users_by_email(
    session: Session, workspace_id: uuid.UUID, email_keys: Collection[str]
) -> dict[str, dict[str, Any]]:
    """E-mail key -> the workspace's active user with it, as the API shows one."""
    if not email_keys:
        return {}
    rows = session.execute(
        select(User.id, User.email, User.name).where(
            User.workspace_id == workspace_id,
            User.email.in_(list(email_keys)),
            User.disabled_at.is_(None),
        )
    )
    return {row.email: {"id": row.id, "email": row.email, "name": row.name} for row in rows}
