"""What every `docusign-agent` command shares: the Typer app, one-line failures, settings, the database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from db.bootstrap import DatabaseUnavailable, prepare
from db.session import Database, DatabaseUrls
from docusign_agent.settings import Settings, SettingsError, load_settings

T = TypeVar("T")

app = typer.Typer(add_completion=False, no_args_is_help=True, help="A LangGraph agent server for DocuSign eSignature.")
err = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(str(exc), 2)


def prepared(settings: Settings, run_migrations: bool | None = None) -> DatabaseUrls:
    try:
        return prepare(settings, run_migrations=run_migrations)
    except DatabaseUnavailable as exc:
        fail(str(exc))


def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` against a small pool on the prepared database, and close it."""
    urls = prepared(settings)

    async def run() -> T:
        database = Database(urls, pool_size=1)
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(run())
