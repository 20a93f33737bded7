"""The `docusign-agent` command.

Configuration problems end the command with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from docusign_agent.settings import Settings, SettingsError, load_settings

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


def prepared(settings: Settings, run_migrations: bool | None = None):  # type: ignore[no-untyped-def]
    from db.bootstrap import DatabaseUnavailable, prepare

    try:
        return prepare(settings, run_migrations=run_migrations)
    except DatabaseUnavailable as exc:
        fail(str(exc))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Serve the API, webhooks, emulator and chat UI on one port."""
    import uvicorn

    from api.app import create_app

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = settings_or_exit(**overrides)
    urls = prepared(settings)
    out.print(f"docusign-agent on [bold]{settings.base_url}[/] (model: {settings.model_name}"
              f"{' — the offline model' if settings.model_is_offline else ''})", highlight=False)
    # uvicorn re-raises SIGTERM after its graceful shutdown; turning it into SystemExit lets atexit stop the
    # embedded Postgres instead of leaving it running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(create_app(settings, urls), host=settings.host, port=settings.port, log_level="warning",
                proxy_headers=True, timeout_graceful_shutdown=5)


@app.command()
def migrate() -> None:
    """Run database migrations as the owner (DATABASE_URL, or the embedded server)."""
    settings = settings_or_exit()
    prepared(settings, run_migrations=True)
    out.print("database is up to date")


@app.command()
def token(
    user: Annotated[str, typer.Option("--user", help="Email of the user; the profile is created if needed")],
    ttl: Annotated[int | None, typer.Option(help="Lifetime in seconds")] = None,
) -> None:
    """Print a bearer token for USER, valid for a server with the same DATA_DIR or AUTH_JWT_SECRET."""
    from email_validator import EmailNotValidError, validate_email

    try:
        email = validate_email(user, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        fail(f"--user: {exc}", 2)
    settings = settings_or_exit()
    urls = prepared(settings)

    async def run() -> str:
        from api.auth import issue_token
        from db import profiles
        from db.session import Database

        database = Database(urls, pool_size=1)
        try:
            async with database.owner_session() as session:
                user_id = await profiles.ensure_profile_by_email(session, email)
            async with database.user_session(user_id) as session:
                await profiles.ensure_profile(session, user_id, email)
        finally:
            await database.dispose()
        return issue_token(settings, user_id, email, ttl)

    sys.stdout.write(asyncio.run(run()) + "\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
