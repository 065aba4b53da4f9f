"""indexes the web app's pages read at size: the engagement spread and alerts, new
contacts this month, deals and leads counted per column, sync volume per day

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 20:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, columns): each covers its page query, so it is read without the table
INDEXES = (
    (
        "contacts",
        "ix_contacts_engagement",
        ["workspace_id", "deleted_at", "engagement_score", "id"],
    ),
    ("contacts", "ix_contacts_created", ["workspace_id", "deleted_at", "created_at"]),
    ("deals", "ix_deals_board", ["workspace_id", "deleted_at", "stage", "pipeline", "owner"]),
    ("leads", "ix_leads_board", ["workspace_id", "deleted_at", "status", "assigned_agent"]),
    (
        "sync_runs",
        "ix_sync_runs_volume",
        ["workspace_id", "started_at", "status", "processed", "failed"],
    ),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
