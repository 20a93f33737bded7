"""Schema migrations (Alembic, as the owner) and the LangGraph checkpoint tables."""

from __future__ import annotations

from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
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


def setup_checkpoints(owner_url: str, app_role: str = "dsa_app") -> None:
    """Create or migrate the LangGraph checkpoint tables as the owner, then let the app role use them.

    langgraph-checkpoint-postgres owns these tables' schema (its own `checkpoint_migrations`), so they are not
    in Alembic; the app role, which runs the graphs, gets row access only.
    """
    with psycopg.connect(driver_url(owner_url, "libpq"), autocommit=True, prepare_threshold=0,
                         row_factory=dict_row) as conn:
        PostgresSaver(conn).setup()  # type: ignore[arg-type]
        for table in CHECKPOINT_TABLES:
            conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
                sql.Identifier(table), sql.Identifier(app_role)))
