"""OAuth states: one row per consent started, taken once by the provider's callback.

A state belongs to whoever started it: an API key (the API's ``authorize``) or a web
app user (the integrations page's "Connect with OAuth"), exactly one of the two.

The ``state`` a provider carries back is a random token; only its SHA-256 is stored,
so a copy of the table cannot finish anyone's flow. The intent (what to create or
reconnect, the sync config, the PKCE verifier) is vault ciphertext bound to the
workspace and to the row.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from crmsync.store.base import Base, IdMixin, utcnow


class OAuthState(IdMixin, Base):
    __tablename__ = "oauth_states"
    __table_args__ = (
        CheckConstraint("(api_key_id IS NULL) <> (user_id IS NULL)", name="one_owner"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    # who started the flow (one of the two): the state is good only while they may
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(40))
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    intent: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
