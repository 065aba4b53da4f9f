"""sync health: per (integration, object type) state, back-off and schedule; API quotas

Revision ID: 0026
Revises: 0027
Create Date: 2026-12-05 17:40:00

A failing object type backs off alone (``sync_object_states.backoff_until``) and a
scheduled one waits for its slot (``next_push_at``); ``api_quotas`` keeps the quota the
CRM last reported in its headers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmsync.store.base import UTCDateTime

revision: str = "0026"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_object_states",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_class", sa.String(length=40), nullable=True),
        sa.Column("last_error_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("backoff_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_push_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_sync_object_states_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sync_object_states_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_object_states")),
        sa.UniqueConstraint(
            "integration_id",
            "object_type",
            name=op.f("uq_sync_object_states_integration_id_object_type"),
        ),
    )
    op.create_table(
        "api_quotas",
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("observed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_api_quotas_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_quotas")),
        sa.UniqueConstraint(
            "integration_id", "name", name=op.f("uq_api_quotas_integration_id_name")
        ),
    )


def downgrade() -> None:
    op.drop_table("api_quotas")
    op.drop_table("sync_object_states")
