"""oauth states of web users: a state belongs to an API key or to a web app user

Revision ID: 0029
Revises: 0022
Create Date: 2026-12-05 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Uuid(), nullable=True))
        batch_op.alter_column("api_key_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_oauth_states_user_id_users"),
            "users",
            ["user_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_oauth_states_one_owner"),
            "(api_key_id IS NULL) <> (user_id IS NULL)",
        )


def downgrade() -> None:
    op.execute("DELETE FROM oauth_states WHERE api_key_id IS NULL")
    with op.batch_alter_table("oauth_states", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_oauth_states_one_owner"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_oauth_states_user_id_users"), type_="foreignkey")
        batch_op.alter_column("api_key_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("user_id")
