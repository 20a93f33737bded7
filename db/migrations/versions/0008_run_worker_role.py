"""The run worker's own role: the cross-user run functions are granted to `dsa_runs`, not to the app role.

`dsa_claim_runs`, `dsa_heartbeat_runs`, `dsa_sweep_runs` and `dsa_sweep_store` are SECURITY DEFINER: they act
on every user's rows. Granted to `dsa_app`, any request-side session (no user set) could claim another user's
run, or mark every running run failed. Only the run worker calls them, over its own connection as `dsa_runs`,
which can do nothing else (no table grants at all).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

APP = "dsa_app"
RUNS = "dsa_runs"
FUNCTIONS = ("dsa_claim_runs(uuid, int)", "dsa_heartbeat_runs(uuid)", "dsa_sweep_runs(int)", "dsa_sweep_store()")


def upgrade() -> None:
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{RUNS}') THEN
            CREATE ROLE {RUNS} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
          END IF;
        END $$;
        """
    )
    op.execute(f"DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO {RUNS}', current_database()); END $$;")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {RUNS}")
    for signature in FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {signature} FROM {APP}")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {RUNS}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {signature} FROM {RUNS}")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {RUNS}")
    op.execute(f"DO $$ BEGIN EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM {RUNS}', current_database()); END $$;")
