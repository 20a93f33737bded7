"""Long-term memory: LangGraph's Store on Postgres, one user's items invisible to every other user.

`store_items` and `store_vectors` are user-owned with forced RLS like threads. Two functions:
- `dsa_cosine(a, b)`: cosine similarity of two float arrays, for vector search without an extension (the
  embedded server has no pgvector; a user's memories are few enough to score in one pass).
- `dsa_sweep_store()`: deletes expired items of every user (`SECURITY DEFINER`, called by the run workers'
  heartbeat); reads already ignore expired items, this only reclaims their rows.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APP = "dsa_app"
TABLES = ("store_items", "store_vectors")


def upgrade() -> None:
    op.create_table(
        "store_items",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ttl_minutes", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["profiles.id"], name=op.f("fk_store_items_user_id_profiles"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "prefix", "key", name=op.f("pk_store_items")),
    )
    op.create_index("ix_store_items_expires_at", "store_items", ["expires_at"], unique=False,
                    postgresql_where=sa.text("expires_at IS NOT NULL"))
    op.create_table(
        "store_vectors",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("field_name", sa.Text(), nullable=False),
        sa.Column("embedding", postgresql.ARRAY(sa.Float()), nullable=False),
        sa.ForeignKeyConstraint(["user_id", "prefix", "key"],
                                ["store_items.user_id", "store_items.prefix", "store_items.key"],
                                name=op.f("fk_store_vectors_user_id_store_items"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "prefix", "key", "field_name", name=op.f("pk_store_vectors")),
    )
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_own ON {table} FOR ALL TO {APP} "
                   "USING (user_id = dsa_current_user_id()) WITH CHECK (user_id = dsa_current_user_id())")
        op.execute(f"CREATE POLICY {table}_maintenance ON {table} FOR ALL TO CURRENT_USER USING (true)")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP}")
    op.execute(
        """
        CREATE FUNCTION dsa_cosine(a double precision[], b double precision[]) RETURNS double precision
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT CASE WHEN s.na = 0 OR s.nb = 0 THEN 0 ELSE s.dot / sqrt(s.na * s.nb) END
            FROM (SELECT sum(x * y) AS dot, sum(x * x) AS na, sum(y * y) AS nb FROM unnest(a, b) AS t(x, y)) s
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION dsa_sweep_store() RETURNS int
        LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
          WITH gone AS (DELETE FROM store_items WHERE expires_at <= now() RETURNING 1)
          SELECT count(*)::int FROM gone
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION dsa_sweep_store() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION dsa_sweep_store() TO {APP}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS dsa_sweep_store()")
    op.execute("DROP FUNCTION IF EXISTS dsa_cosine(double precision[], double precision[])")
    for table in reversed(TABLES):
        op.execute(f"DROP POLICY IF EXISTS {table}_own ON {table}")
        op.execute(f"DROP POLICY IF EXISTS {table}_maintenance ON {table}")
        op.execute(f"REVOKE ALL ON {table} FROM {APP}")
        op.drop_table(table)
