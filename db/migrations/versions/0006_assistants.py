"""Assistants a user makes over a graph, and every version of each; user-owned with forced RLS.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

APP = "dsa_app"
TABLES = ("assistants", "assistant_versions")


def _content() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("graph_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("context", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "assistants",
        sa.Column("assistant_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        *_content(),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["profiles.id"], name=op.f("fk_assistants_user_id_profiles"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("assistant_id", name=op.f("pk_assistants")),
    )
    op.create_index("ix_assistants_user_id_updated_at", "assistants", ["user_id", "updated_at"], unique=False)
    op.create_index("ix_assistants_metadata", "assistants", ["metadata"], unique=False, postgresql_using="gin")
    op.create_table(
        "assistant_versions",
        sa.Column("assistant_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        *_content(),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["assistant_id"], ["assistants.assistant_id"],
                                name=op.f("fk_assistant_versions_assistant_id_assistants"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["profiles.id"], name=op.f("fk_assistant_versions_user_id_profiles"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("assistant_id", "version", name=op.f("pk_assistant_versions")),
    )
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_own ON {table} FOR ALL TO {APP} "
                   "USING (user_id = dsa_current_user_id()) WITH CHECK (user_id = dsa_current_user_id())")
        op.execute(f"CREATE POLICY {table}_maintenance ON {table} FOR ALL TO CURRENT_USER USING (true)")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP}")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP POLICY IF EXISTS {table}_own ON {table}")
        op.execute(f"DROP POLICY IF EXISTS {table}_maintenance ON {table}")
        op.execute(f"REVOKE ALL ON {table} FROM {APP}")
    op.drop_table("assistant_versions")
    op.drop_index("ix_assistants_metadata", table_name="assistants", postgresql_using="gin")
    op.drop_index("ix_assistants_user_id_updated_at", table_name="assistants")
    op.drop_table("assistants")
