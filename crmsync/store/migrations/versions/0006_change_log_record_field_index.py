"""change_log: index (record_id, field, at) in place of (workspace_id, record_type, record_id, at)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:00:00

Every query of the ChangeLog asks for one record's (or a few records') last change per
field; record ids (UUIDs) are unique across types and workspaces. The narrower index
covers those queries and costs less on each of the ~15 ChangeLog rows a new record writes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_log_record_field", ["record_id", "field", "at"], unique=False
        )
        batch_op.drop_index("ix_change_log_record")


def downgrade() -> None:
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_log_record", ["workspace_id", "record_type", "record_id", "at"], unique=False
        )
        batch_op.drop_index("ix_change_log_record_field")
