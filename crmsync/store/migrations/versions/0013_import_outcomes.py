"""import_batches (the rows each batch made records of) and import_jobs.undone_at

Revision ID: 0013
Revises: 0006
Create Date: 2026-12-05 15:00:00

Every row of an import gets an outcome one can read back: failed and duplicate rows
already had an ``import_rows`` row; rows that became records are listed per batch (one
row per committed batch, not one per source row). ``undone_at`` marks an undone import.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import crmsync.store.base

revision: str = "0013"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_batches",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("first_row", sa.Integer(), nullable=False),
        sa.Column("last_row", sa.Integer(), nullable=False),
        sa.Column(
            "rows",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
            name=op.f("fk_import_batches_job_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
        sa.UniqueConstraint("job_id", "first_row", name=op.f("uq_import_batches_job_id_first_row")),
    )
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("undone_at", crmsync.store.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.drop_column("undone_at")
    op.drop_table("import_batches")
