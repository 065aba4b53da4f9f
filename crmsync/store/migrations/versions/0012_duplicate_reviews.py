"""duplicate reviews: possible duplicates waiting for a person; imports count them

Revision ID: 0012
Revises: 0020
Create Date: 2026-12-05 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crmsync.store.base

revision: str = "0012"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duplicate_reviews",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("left_id", sa.Uuid(), nullable=False),
        sa.Column("right_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("created_at", crmsync.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", crmsync.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_duplicate_reviews_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_reviews")),
        sa.UniqueConstraint(
            "workspace_id", "record_type", "left_id", "right_id", name="uq_duplicate_reviews_pair"
        ),
    )
    with op.batch_alter_table("duplicate_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_duplicate_reviews_status", ["workspace_id", "record_type", "status"], unique=False
        )
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("possible_duplicates", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.drop_column("possible_duplicates")
    with op.batch_alter_table("duplicate_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_duplicate_reviews_status")
    op.drop_table("duplicate_reviews")
