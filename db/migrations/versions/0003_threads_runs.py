"""Threads and runs of the LangGraph API, with RLS, and the definer functions the run workers use.

Rows belong to one user and are read and written through `Database.user_session` like every other user table.
Three things must happen across users, by the server itself, and are offered as narrow `SECURITY DEFINER`
functions rather than a broader role:
- `dsa_claim_runs(worker, limit)`: take due pending runs (oldest first, at most one per thread, never while
  another run of the thread is running) and mark them running for this worker. A transaction-level advisory
  lock plus `FOR UPDATE SKIP LOCKED` make the claim exclusive across processes.
- `dsa_heartbeat_runs(worker)`: prove the worker is alive for its running runs; answers which of them were
  asked to cancel (a fallback for a missed bus message).
- `dsa_sweep_runs(stale_seconds)`: a run whose worker stopped heartbeating is marked `error`, and its thread
  `error` (or `busy` if more runs are queued), so nothing stays `running` forever after a crash.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APP = "dsa_app"
USER_OWNED = {"threads": "user_id", "runs": "user_id"}
APP_GRANTS = {"threads": "SELECT, INSERT, UPDATE, DELETE", "runs": "SELECT, INSERT, UPDATE, DELETE"}


def _tables() -> None:
    op.create_table(
        "threads",
        sa.Column("thread_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="idle", nullable=False),
        sa.Column("values", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("interrupts", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("error", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('idle', 'busy', 'interrupted', 'error')", name=op.f("ck_threads_status_valid")),
        sa.ForeignKeyConstraint(["user_id"], ["profiles.id"], name=op.f("fk_threads_user_id_profiles"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("thread_id", name=op.f("pk_threads")),
    )
    op.create_index("ix_threads_metadata", "threads", ["metadata"], unique=False, postgresql_using="gin")
    op.create_index("ix_threads_user_id_updated_at", "threads", ["user_id", sa.literal_column("updated_at DESC")],
                    unique=False)
    op.create_table(
        "runs",
        sa.Column("run_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("thread_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("assistant_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("kwargs", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("multitask_strategy", sa.String(length=16), server_default="enqueue", nullable=False),
        sa.Column("cancel_requested", sa.String(length=16), nullable=True),
        sa.Column("error", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("worker_id", sa.UUID(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_after", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("cancel_requested IN ('interrupt', 'rollback')", name=op.f("ck_runs_cancel_requested_valid")),
        sa.CheckConstraint("multitask_strategy IN ('reject', 'interrupt', 'rollback', 'enqueue')",
                           name=op.f("ck_runs_multitask_strategy_valid")),
        sa.CheckConstraint("status IN ('pending', 'running', 'success', 'error', 'timeout', 'interrupted')",
                           name=op.f("ck_runs_status_valid")),
        sa.ForeignKeyConstraint(["thread_id"], ["threads.thread_id"], name=op.f("fk_runs_thread_id_threads"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["profiles.id"], name=op.f("fk_runs_user_id_profiles"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_runs")),
    )
    op.create_index("ix_runs_pending", "runs", ["run_after", "created_at"], unique=False,
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index("ix_runs_running", "runs", ["heartbeat_at"], unique=False,
                    postgresql_where=sa.text("status = 'running'"))
    op.create_index("ix_runs_thread_id_created_at", "runs", ["thread_id", "created_at"], unique=False)
    op.create_index("ix_runs_user_id", "runs", ["user_id"], unique=False)


def _functions() -> None:
    op.execute(
        """
        CREATE FUNCTION dsa_claim_runs(p_worker uuid, p_limit int)
        RETURNS TABLE(claimed_run uuid, claimed_thread uuid, claimed_user uuid)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
        BEGIN
          PERFORM pg_advisory_xact_lock(hashtext('dsa_claim_runs'));
          RETURN QUERY
          WITH candidates AS (
            SELECT r.run_id FROM runs r
            WHERE r.status = 'pending' AND r.run_after <= now()
              AND NOT EXISTS (
                SELECT 1 FROM runs o
                WHERE o.thread_id = r.thread_id AND o.run_id <> r.run_id
                  AND (o.status = 'running'
                       OR (o.status = 'pending' AND (o.created_at, o.run_id) < (r.created_at, r.run_id))))
            ORDER BY r.created_at
            LIMIT p_limit
            FOR UPDATE SKIP LOCKED
          )
          UPDATE runs u
             SET status = 'running', worker_id = p_worker, heartbeat_at = now(), started_at = now(),
                 updated_at = now()
            FROM candidates c
           WHERE u.run_id = c.run_id
          RETURNING u.run_id, u.thread_id, u.user_id;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION dsa_heartbeat_runs(p_worker uuid)
        RETURNS TABLE(beat_run uuid, cancel_action text)
        LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
          UPDATE runs SET heartbeat_at = now()
           WHERE worker_id = p_worker AND status = 'running'
          RETURNING run_id, cancel_requested::text
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION dsa_sweep_runs(p_stale_seconds int)
        RETURNS TABLE(swept_run uuid, swept_thread uuid, swept_user uuid)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
        BEGIN
          -- Same lock order as the API (thread rows, then run rows), so a sweep never deadlocks a request.
          PERFORM 1 FROM threads t
           WHERE t.thread_id IN (SELECT r.thread_id FROM runs r WHERE r.status = 'running'
                                   AND r.heartbeat_at < now() - make_interval(secs => p_stale_seconds))
           ORDER BY t.thread_id FOR UPDATE OF t;
          RETURN QUERY
          WITH stale AS (
            UPDATE runs r
               SET status = 'error', worker_id = NULL, ended_at = now(), updated_at = now(),
                   error = jsonb_build_object('error', 'WorkerLost', 'message',
                     'the server process executing this run stopped before the run finished')
             WHERE r.status = 'running' AND r.heartbeat_at < now() - make_interval(secs => p_stale_seconds)
            RETURNING r.run_id, r.thread_id, r.user_id, r.error
          ), threads_updated AS (
            UPDATE threads t
               SET status = CASE WHEN EXISTS (
                     SELECT 1 FROM runs o
                      WHERE o.thread_id = t.thread_id AND o.status IN ('pending', 'running')
                        AND o.run_id NOT IN (SELECT s2.run_id FROM stale s2)) THEN 'busy' ELSE 'error' END,
                   error = s.error, updated_at = now()
              FROM stale s
             WHERE t.thread_id = s.thread_id
            RETURNING t.thread_id
          )
          SELECT s.run_id, s.thread_id, s.user_id FROM stale s;
        END $$
        """
    )
    for signature in ("dsa_claim_runs(uuid, int)", "dsa_heartbeat_runs(uuid)", "dsa_sweep_runs(int)"):
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP}")


def upgrade() -> None:
    _tables()
    for table, column in USER_OWNED.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_own ON {table} FOR ALL TO {APP} "
            f"USING ({column} = dsa_current_user_id()) WITH CHECK ({column} = dsa_current_user_id())"
        )
        op.execute(f"CREATE POLICY {table}_maintenance ON {table} FOR ALL TO CURRENT_USER USING (true)")
        op.execute(f"GRANT {APP_GRANTS[table]} ON {table} TO {APP}")
    _functions()


def downgrade() -> None:
    for signature in ("dsa_claim_runs(uuid, int)", "dsa_heartbeat_runs(uuid)", "dsa_sweep_runs(int)"):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for table in USER_OWNED:
        op.execute(f"DROP POLICY IF EXISTS {table}_own ON {table}")
        op.execute(f"DROP POLICY IF EXISTS {table}_maintenance ON {table}")
        op.execute(f"REVOKE ALL ON {table} FROM {APP}")
    op.drop_index("ix_runs_user_id", table_name="runs")
    op.drop_index("ix_runs_thread_id_created_at", table_name="runs")
    op.drop_index("ix_runs_running", table_name="runs", postgresql_where=sa.text("status = 'running'"))
    op.drop_index("ix_runs_pending", table_name="runs", postgresql_where=sa.text("status = 'pending'"))
    op.drop_table("runs")
    op.drop_index("ix_threads_user_id_updated_at", table_name="threads")
    op.drop_index("ix_threads_metadata", table_name="threads", postgresql_using="gin")
    op.drop_table("threads")
