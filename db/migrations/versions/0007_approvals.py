"""Approvals: a person's decision on one tool call, bound to the exact arguments; user-owned with forced RLS.

The tool node checks and consumes these rows instead of trusting graph state a client can write
(docs/ARCHITECTURE.md, "The approval record").

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

APP = "dsa_app"


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.Column("tool_call_id", sa.String(length=100), nullable=False),
        sa.Column("tool_name", sa.String(length=100), nullable=False),
        sa.Column("args", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("args_digest", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("decision IN ('approved', 'rejected')", name=op.f("ck_approvals_decision_valid")),
        sa.CheckConstraint("source IN ('chat', 'mcp', 'api')", name=op.f("ck_approvals_source_valid")),
        sa.ForeignKeyConstraint(["user_id"], ["profiles.id"], name=op.f("fk_approvals_user_id_profiles"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint("user_id", "thread_id", "tool_call_id",
                            name=op.f("uq_approvals_user_id_thread_id_tool_call_id"),
                            postgresql_nulls_not_distinct=True),
    )
    op.create_index("ix_approvals_user_id_created_at", "approvals", ["user_id", "created_at"], unique=False)
    op.execute("ALTER TABLE approvals ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE approvals FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY approvals_own ON approvals FOR ALL TO {APP} "
               "USING (user_id = dsa_current_user_id()) WITH CHECK (user_id = dsa_current_user_id())")
    op.execute("CREATE POLICY approvals_maintenance ON approvals FOR ALL TO CURRENT_USER USING (true)")
    # No DELETE: a decision stays on record (rows go with their profile, by cascade).
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON approvals TO {APP}")


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS approvals_own ON approvals")
    op.execute("DROP POLICY IF EXISTS approvals_maintenance ON approvals")
    op.execute(f"REVOKE ALL ON approvals FROM {APP}")
    op.drop_index("ix_approvals_user_id_created_at", table_name="approvals")
    op.drop_table("approvals")
