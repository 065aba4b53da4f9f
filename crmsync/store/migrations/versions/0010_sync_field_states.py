"""sync_field_states: per (integration, record, property) the value the CRM is known to hold

Revision ID: 0010
Revises: 0017
Create Date: 2026-12-05 14:30:00

Field-level pushes send only properties whose local value differs from what the CRM is
known to hold, and reads count a property as changed in the CRM only when it differs
from it (so crmsync's own pushed value, seen again, is never a change).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crmsync.store.base import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_field_states",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("property", sa.String(length=200), nullable=False),
        sa.Column("value", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("value_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("known_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_sync_field_states_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_field_states")),
        sa.UniqueConstraint(
            "integration_id", "object_type", "record_id", "property", name="uq_field_states"
        ),
    )


def downgrade() -> None:
    op.drop_table("sync_field_states")
