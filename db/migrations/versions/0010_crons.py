"""Crons: scheduled runs per user (forced RLS), and the definer functions the run workers fire them through.

Each time of a schedule makes exactly one run, however many processes fire crons, and a process that dies while
firing one does not lose it:
- `dsa_claim_crons(now, limit, lease_seconds)`: due crons of every user (enabled, `next_run_date <= now`, not
  past their `end_time`), and crons whose claimant died while firing (`pending_fire` older than the lease),
  locked `FOR UPDATE SKIP LOCKED` and marked pending: the time being fired is kept in `pending_fire`. The
  claimant moves each to its next time (`dsa_advance_cron`) in the same short transaction and commits, so no
  other process sees it due; no lock is held while the run is made.
- `dsa_fired_cron(cron, time)`: the run for that time exists (or was refused): the cron is no longer pending.
  Run ids are derived from the cron and the time, so a second claimant of a pending time whose run was in
  fact made meets the runs' key and makes none.
- `dsa_next_cron_at()`: when the earliest enabled cron is due, so a scheduler sleeps until then and no longer.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

APP = "dsa_app"
FUNCTIONS = ("dsa_claim_crons(timestamptz, int, int)", "dsa_advance_cron(uuid, timestamptz)",
             "dsa_fired_cron(uuid, timestamptz)", "dsa_next_cron_at()")
DUE = "enabled AND (end_time IS NULL OR next_run_date <= end_time)"


def upgrade() -> None:
    op.create_table(
        "crons",
        sa.Column("cron_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("assistant_id", sa.String(length=100), nullable=False),
        sa.Column("thread_id", sa.UUID(), nullable=True),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("on_run_completed", sa.String(length=16), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("next_run_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pending_fire", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("on_run_completed IN ('delete', 'keep')", name=op.f("ck_crons_on_run_completed_valid")),
        sa.ForeignKeyConstraint(["thread_id"], ["threads.thread_id"], name=op.f("fk_crons_thread_id_threads"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["profiles.id"], name=op.f("fk_crons_user_id_profiles"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("cron_id", name=op.f("pk_crons")),
    )
    op.create_index("ix_crons_due", "crons", ["next_run_date"], unique=False, postgresql_where=sa.text("enabled"))
    op.create_index("ix_crons_thread_id", "crons", ["thread_id"], unique=False)
    op.create_index("ix_crons_user_id_created_at", "crons", ["user_id", "created_at"], unique=False)
    op.execute("ALTER TABLE crons ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE crons FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY crons_own ON crons FOR ALL TO {APP} "
               "USING (user_id = dsa_current_user_id()) WITH CHECK (user_id = dsa_current_user_id())")
    op.execute("CREATE POLICY crons_maintenance ON crons FOR ALL TO CURRENT_USER USING (true)")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON crons TO {APP}")
    op.execute(
        f"""
        CREATE FUNCTION dsa_claim_crons(p_now timestamptz, p_limit int, p_lease_seconds int) RETURNS SETOF crons
        LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
          WITH claimed AS (
            SELECT cron_id FROM crons
             WHERE (pending_fire IS NULL AND {DUE} AND next_run_date <= p_now)
                OR (pending_fire IS NOT NULL AND pending_since < now() - make_interval(secs => p_lease_seconds))
             ORDER BY next_run_date
             LIMIT p_limit
               FOR UPDATE SKIP LOCKED
          )
          UPDATE crons c
             SET pending_fire = COALESCE(c.pending_fire, c.next_run_date), pending_since = now()
            FROM claimed
           WHERE c.cron_id = claimed.cron_id
          RETURNING c.*
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION dsa_advance_cron(p_cron uuid, p_next timestamptz) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
          UPDATE crons SET next_run_date = p_next WHERE cron_id = p_cron
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION dsa_fired_cron(p_cron uuid, p_fire timestamptz) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
          UPDATE crons SET pending_fire = NULL, pending_since = NULL WHERE cron_id = p_cron AND pending_fire = p_fire
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION dsa_next_cron_at() RETURNS timestamptz
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
          SELECT min(next_run_date) FROM crons WHERE {DUE}
        $$
        """
    )
    for signature in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute("DROP POLICY IF EXISTS crons_own ON crons")
    op.execute("DROP POLICY IF EXISTS crons_maintenance ON crons")
    op.execute(f"REVOKE ALL ON crons FROM {APP}")
    op.drop_index("ix_crons_user_id_created_at", table_name="crons")
    op.drop_index("ix_crons_thread_id", table_name="crons")
    op.drop_index("ix_crons_due", table_name="crons", postgresql_where=sa.text("enabled"))
    op.drop_table("crons")
