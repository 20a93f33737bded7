"""From settings to a ready database: embedded server if needed, reachability check, migrations, engines."""

from __future__ import annotations

import asyncio
import logging

import psycopg
from psycopg import sql

from db import migrate
from db.embedded import start_embedded
from db.session import Database, DatabaseUrls
from db.urls import APP_ROLE, RUNS_ROLE, WEBHOOK_ROLE, driver_url, mask_url, with_user
from docusign_agent.settings import Settings

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database could not be reached or prepared; the message names the (masked) URL and the cause."""


class DatabaseNotMigrated(DatabaseUnavailable):
    """The database answers but its schema is missing or of another version: `docusign-agent migrate` fixes it."""


def resolve_urls(settings: Settings) -> tuple[DatabaseUrls, bool]:
    """The four role URLs, and whether they point at the embedded server (started here if so)."""
    embedded = settings.database_url is None
    owner = settings.database_url or start_embedded(settings.data_dir)
    app = settings.app_database_url or with_user(owner, APP_ROLE, settings.db_role_password)
    webhook = settings.webhook_database_url or with_user(owner, WEBHOOK_ROLE, settings.db_role_password)
    runs = settings.runs_database_url or with_user(owner, RUNS_ROLE, settings.db_role_password)
    return DatabaseUrls(owner=owner, app=app, webhook=webhook, runs=runs), embedded


def check_reachable(url: str) -> None:
    try:
        with psycopg.connect(driver_url(url, "libpq"), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to database {mask_url(url)}: {cause}") from None


def set_role_passwords(owner_url: str, password: str) -> None:
    with psycopg.connect(driver_url(owner_url, "libpq"), autocommit=True) as conn:
        for role in (APP_ROLE, WEBHOOK_ROLE, RUNS_ROLE):
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))


def prepare(settings: Settings, *, run_migrations: bool | None = None) -> DatabaseUrls:
    """Blocking: start/reach the server and migrate. `run_migrations=None` migrates the embedded one only."""
    try:
        urls, embedded = resolve_urls(settings)
    except Exception as exc:  # the embedded server failed to start
        raise DatabaseUnavailable(f"cannot start embedded Postgres under {settings.data_dir}: {exc}") from None
    check_reachable(urls.owner)
    if run_migrations if run_migrations is not None else embedded:
        migrate.upgrade(urls.owner)
        migrate.setup_checkpoints(urls.owner)
        if settings.db_role_password:
            set_role_passwords(urls.owner, settings.db_role_password)
    else:
        check_migrated(urls.owner)
    return urls


def check_migrated(owner_url: str) -> None:
    """Against a configured DATABASE_URL migrations are explicit: stop at once, in one line, rather than start
    and fail on the first missing role or function."""
    try:
        problem = migrate.schema_problem(owner_url)
    except psycopg.Error as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(f"cannot read the schema of database {mask_url(owner_url)}: {cause}") from None
    if problem:
        raise DatabaseNotMigrated(f"database {mask_url(owner_url)} {problem}: run `docusign-agent migrate` "
                                  "with the same DATABASE_URL, then start again")


async def open_database(settings: Settings, *, run_migrations: bool | None = None) -> Database:
    urls = await asyncio.to_thread(prepare, settings, run_migrations=run_migrations)
    return Database(urls, pool_size=settings.db_pool_size)
