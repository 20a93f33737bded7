"""Schema migrations (Alembic, as the owner) and the LangGraph checkpoint tables."""

from __future__ import annotations

from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg import sql
from psycopg.rows import dict_row

from db.urls import driver_url

INI = Path(__file__).with_name("alembic.ini")


def alembic_config(owner_url: str) -> Config:
    config = Config(str(INI))
    config.attributes["url"] = driver_url(owner_url, "psycopg")
    return config


def upgrade(owner_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(owner_url), revision)


def downgrade(owner_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(owner_url), revision)


def check(owner_url: str) -> None:
    """Raise if the models and the migrated schema disagree (alembic check)."""
    command.check(alembic_config(owner_url))


CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations")
# The tables holding conversations; `checkpoint_migrations` only says which of the saver's migrations ran.
CHECKPOINT_DATA = CHECKPOINT_TABLES[:3]

# dsa_current_user_id() spelled out, so these tables hold no dependency on a function Alembic may drop.
_CURRENT_USER = "nullif(current_setting('app.user_id', true), '')::uuid"
_OWNED = (
    # Whose rows: the user the writing session acts for (the saver sets app.user_id), so the saver's own
    # INSERTs, which name their columns, fill it without knowing it exists.
    f"ALTER TABLE {{t}} ADD COLUMN IF NOT EXISTS user_id uuid DEFAULT {_CURRENT_USER}",
    # Rows written before this column existed belong to their thread's owner (none: nobody's, only the owner's
    # maintenance sees them).
    "UPDATE {t} c SET user_id = th.user_id FROM threads th WHERE c.user_id IS NULL AND th.thread_id::text = c.thread_id",
    "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE {t} FORCE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS {own} ON {t}",
    "CREATE POLICY {own} ON {t} FOR ALL TO {app} "
    f"USING (user_id = {_CURRENT_USER}) WITH CHECK (user_id = {_CURRENT_USER})",
    "DROP POLICY IF EXISTS {maintenance} ON {t}",
    "CREATE POLICY {maintenance} ON {t} FOR ALL TO CURRENT_USER USING (true)",
)


def schema_problem(owner_url: str) -> str | None:
    """Why this database cannot serve this version (no schema, an older or unknown revision, no checkpoint
    tables), in words; None when it is migrated. Read-only: a server that is not told to migrate only looks."""
    heads = set(ScriptDirectory.from_config(alembic_config(owner_url)).get_heads())
    with psycopg.connect(driver_url(owner_url, "libpq"), autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
        current: set[str] = set()
        if exists and exists[0]:
            current = {r[0] for r in conn.execute("SELECT version_num FROM alembic_version").fetchall()}
        missing = [t for t in CHECKPOINT_TABLES
                   if not conn.execute("SELECT to_regclass(%s) IS NOT NULL", (t,)).fetchone()[0]]  # type: ignore[index]
    if not current:
        return "has no docusign-agent schema"
    if current != heads:
        known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config(owner_url)).walk_revisions()}
        if current - known:
            return (f"is at revision {', '.join(sorted(current))}, which this version does not know "
                    "(it was migrated by a newer docusign-agent)")
        return f"is at revision {', '.join(sorted(current))}; this version needs {', '.join(sorted(heads))}"
    if missing:
        return f"has no LangGraph checkpoint tables ({', '.join(missing)})"
    return None


def setup_checkpoints(owner_url: str, app_role: str = "dsa_app") -> None:
    """Create or migrate the LangGraph checkpoint tables as the owner, put them under the thread owner's row
    security, then let the app role use them.

    langgraph-checkpoint-postgres owns these tables' schema (its own `checkpoint_migrations`), so they are not
    in Alembic, and this runs after every Alembic upgrade (it is idempotent). The app role, which runs the
    graphs and answers state requests, gets row access only, and only to the rows of the user it acts for
    (`agent.checkpointer.PooledPostgresSaver.for_user`): with no user set it reads, changes and deletes nothing.
    """
    with psycopg.connect(driver_url(owner_url, "libpq"), autocommit=True, prepare_threshold=0,
                         row_factory=dict_row) as conn:
        PostgresSaver(conn).setup()  # type: ignore[arg-type]
        with conn.transaction():
            for table in CHECKPOINT_DATA:
                for statement in _OWNED:
                    conn.execute(sql.SQL(statement).format(  # type: ignore[arg-type]
                        t=sql.Identifier(table), app=sql.Identifier(app_role),
                        own=sql.Identifier(f"{table}_own"), maintenance=sql.Identifier(f"{table}_maintenance")))
        for table in CHECKPOINT_TABLES:
            conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
                sql.Identifier(table), sql.Identifier(app_role)))
