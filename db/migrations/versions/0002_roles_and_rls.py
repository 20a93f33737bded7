"""Roles and row-level security.

The app role sees only the rows of the user named by `app.user_id` (set per transaction by
`db.session.Database.user_session`). The webhook role reads and writes the mirror for every user, but has no
access to credentials, keys, documents or preferences. Migrations run as the owner, which keeps a maintenance
policy so that RLS stays FORCED (a future owner-connection bug still cannot leak rows across users without a
user id).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APP = "dsa_app"
WEBHOOK = "dsa_webhook"

USER_OWNED = {
    "profiles": "id",
    "api_credentials": "user_id",
    "api_keys": "user_id",
    "user_preferences": "user_id",
    "envelopes": "user_id",
    "recipients": "user_id",
    "documents": "user_id",
    "analysis_results": "user_id",
    "bulk_operations": "user_id",
    "bulk_recipients": "user_id",
    "audit_log": "user_id",
    "webhook_events": "user_id",
}

APP_GRANTS = {
    "profiles": "SELECT, INSERT, UPDATE",
    "api_credentials": "SELECT, INSERT, UPDATE, DELETE",
    "api_keys": "SELECT, INSERT, UPDATE",
    "user_preferences": "SELECT, INSERT, UPDATE",
    "envelopes": "SELECT, INSERT, UPDATE",
    "recipients": "SELECT, INSERT, UPDATE",
    "documents": "SELECT, INSERT, UPDATE, DELETE",
    "analysis_results": "SELECT, INSERT, UPDATE",
    "bulk_operations": "SELECT, INSERT, UPDATE",
    "bulk_recipients": "SELECT, INSERT, UPDATE",
    "audit_log": "SELECT, INSERT, UPDATE",
    "webhook_events": "SELECT",
}

WEBHOOK_GRANTS = {
    "webhook_events": "SELECT, INSERT, UPDATE",
    "envelopes": "SELECT, INSERT, UPDATE",
    "recipients": "SELECT, INSERT, UPDATE",
    "bulk_operations": "SELECT, UPDATE",
    "bulk_recipients": "SELECT, UPDATE",
    "audit_log": "SELECT, INSERT",
}


def _create_role(name: str) -> None:
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN
            CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
          END IF;
        END $$;
        """
    )
    op.execute(f"DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO {name}', current_database()); END $$;")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {name}")


def upgrade() -> None:
    # uuid-ossp where the server ships it; gen_random_uuid() is built in since PG 13 and is what we use.
    op.execute(
        """
        DO $$ BEGIN
          IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'uuid-ossp') THEN
            CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
          END IF;
          IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pgcrypto') THEN
            CREATE EXTENSION IF NOT EXISTS pgcrypto;
          END IF;
        END $$;
        """
    )
    _create_role(APP)
    _create_role(WEBHOOK)
    op.execute(
        """
        CREATE FUNCTION dsa_current_user_id() RETURNS uuid
        LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$
        """
    )
    for table, column in USER_OWNED.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_own ON {table} FOR ALL TO {APP} "
            f"USING ({column} = dsa_current_user_id()) WITH CHECK ({column} = dsa_current_user_id())"
        )
        op.execute(f"CREATE POLICY {table}_maintenance ON {table} FOR ALL TO CURRENT_USER USING (true)")
        op.execute(f"GRANT {APP_GRANTS[table]} ON {table} TO {APP}")
    for table, grants in WEBHOOK_GRANTS.items():
        op.execute(f"CREATE POLICY {table}_webhook ON {table} FOR ALL TO {WEBHOOK} USING (true) WITH CHECK (true)")
        op.execute(f"GRANT {grants} ON {table} TO {WEBHOOK}")
    # The worker maps a DocuSign user to one of ours; it needs nothing else of a profile.
    op.execute(f"CREATE POLICY profiles_webhook ON profiles FOR SELECT TO {WEBHOOK} USING (true)")
    op.execute(f"GRANT SELECT (id, email, docusign_user_id, docusign_account_id) ON profiles TO {WEBHOOK}")

    # API keys are looked up before we know whose they are: a definer function answers only "whose is this hash".
    op.execute(
        """
        CREATE FUNCTION dsa_api_key_owner(p_hash text) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
          SELECT user_id FROM api_keys WHERE key_hash = p_hash AND revoked_at IS NULL
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION dsa_api_key_owner(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION dsa_api_key_owner(text) TO {APP}")

    # audit_log is append-only: no DELETE is granted, and a row may be updated once, from started or
    # awaiting_approval to its outcome, without touching what was recorded when it started.
    op.execute(
        """
        CREATE FUNCTION dsa_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.status NOT IN ('started', 'awaiting_approval') THEN
            RAISE EXCEPTION 'audit_log row % is final and cannot change', OLD.id USING ERRCODE = 'insufficient_privilege';
          END IF;
          IF NEW.user_id IS DISTINCT FROM OLD.user_id OR NEW.actor IS DISTINCT FROM OLD.actor
             OR NEW.operation IS DISTINCT FROM OLD.operation OR NEW.arguments IS DISTINCT FROM OLD.arguments
             OR NEW.started_at IS DISTINCT FROM OLD.started_at OR NEW.tool_call_id IS DISTINCT FROM OLD.tool_call_id
             OR NEW.thread_id IS DISTINCT FROM OLD.thread_id OR NEW.run_id IS DISTINCT FROM OLD.run_id THEN
            RAISE EXCEPTION 'audit_log row % may only record its outcome', OLD.id USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION dsa_audit_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS dsa_audit_append_only()")
    op.execute("DROP FUNCTION IF EXISTS dsa_api_key_owner(text)")
    op.execute(f"REVOKE ALL ON profiles FROM {WEBHOOK}")
    op.execute("DROP POLICY IF EXISTS profiles_webhook ON profiles")
    for table in WEBHOOK_GRANTS:
        op.execute(f"DROP POLICY IF EXISTS {table}_webhook ON {table}")
        op.execute(f"REVOKE ALL ON {table} FROM {WEBHOOK}")
    for table in USER_OWNED:
        op.execute(f"DROP POLICY IF EXISTS {table}_own ON {table}")
        op.execute(f"DROP POLICY IF EXISTS {table}_maintenance ON {table}")
        op.execute(f"REVOKE ALL ON {table} FROM {APP}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS dsa_current_user_id()")
    for role in (APP, WEBHOOK):
        op.execute(f"REVOKE USAGE ON SCHEMA public FROM {role}")
        op.execute(f"DO $$ BEGIN EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM {role}', current_database()); END $$;")
    # The roles are cluster-wide and may serve other databases, so they are left in place.
