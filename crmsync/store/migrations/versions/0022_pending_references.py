"""pending_references: CRM references whose target record has not arrived yet

Revision ID: 0022
Revises: 0028
Create Date: 2026-12-05 17:50:00.000000

A record read from a CRM that names another record by the CRM's id (a deal's contact)
keeps the reference here until a Link pairs that id with a crmsync record.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crmsync.store.base

revision: str = "0022"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_references",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("remote_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", crmsync.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_pending_references_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_pending_references_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_references")),
        sa.UniqueConstraint(
            "integration_id",
            "object_type",
            "record_id",
            "field",
            name="uq_pending_references",
        ),
    )
    op.create_index(
        "ix_pending_references_target",
        "pending_references",
        ["integration_id", "target_type", "remote_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_pending_references_target", table_name="pending_references")
    op.drop_table("pending_references")
