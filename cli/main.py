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
    workers: Annotated[int, typer.Option(min=1, help="Server processes; more than one needs REDIS_URL")] = 1,
) -> None:
    """Serve the API, webhooks and emulator on one port."""
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
    if workers > 1:
        _serve_workers(settings, urls, workers)
        return
    uvicorn.run(create_app(settings, urls), host=settings.host, port=settings.port, log_level="warning",
                proxy_headers=True, timeout_graceful_shutdown=5)


def _serve_workers(settings: Settings, urls, workers: int) -> None:  # type: ignore[no-untyped-def]
    """Several uvicorn worker processes on one port. They share runs through Redis and Postgres, so Redis is
    required, and DocuSign must be real or one emulator served apart (each process would hold its own)."""
    import os

    import uvicorn

    if not settings.redis_url:
        fail("--workers > 1 needs REDIS_URL: the processes share run events and locks through Redis", 2)
    if not settings.docusign_is_real and not settings.docusign_emulator_url:
        fail("--workers > 1 needs real DocuSign or one shared emulator: run `docusign-agent emulator` and set "
             "DOCUSIGN_EMULATOR_URL", 2)
    # The workers re-read settings from the environment: hand them the database this process prepared (the
    # embedded server, if any, lives as long as this supervising process).
    os.environ.update({"DATABASE_URL": urls.owner, "APP_DATABASE_URL": urls.app, "WEBHOOK_DATABASE_URL": urls.webhook,
                       "HOST": settings.host, "PORT": str(settings.port)})
    uvicorn.run("api.app:create_app", factory=True, host=settings.host, port=settings.port, workers=workers,
                log_level="warning", proxy_headers=True, timeout_graceful_shutdown=5)


@app.command()
def emulator(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8400,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    snapshot: Annotated[str | None, typer.Option(help="Keep the emulator's state in this JSON file")] = None,
) -> None:
    """Serve the DocuSign emulator alone (under /_emulator), e.g. for another client or a demo."""
    from pathlib import Path

    import uvicorn

    from emulator.standalone import build_standalone_app

    settings = settings_or_exit()
    path = Path(snapshot) if snapshot else settings.emulator_snapshot_path
    out.print(f"DocuSign emulator on [bold]http://{host}:{port}/_emulator[/] "
              f"(REST host for the SDK: http://{host}:{port}/_emulator/restapi)", highlight=False)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(build_standalone_app(snapshot_path=path), host=host, port=port, log_level="warning")


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


# --- Connect events and configuration (api/webhooks) ---------------------------------------------------------

webhooks_app = typer.Typer(no_args_is_help=True, help="Stored DocuSign Connect events: list, replay, discard.")
connect_app = typer.Typer(no_args_is_help=True, help="The DocuSign Connect configuration that feeds the mirror.")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(connect_app, name="connect")


def _with_database(settings: Settings, work):  # type: ignore[no-untyped-def]
    from db.session import Database

    urls = prepared(settings)

    async def run():  # type: ignore[no-untyped-def]
        database = Database(urls, pool_size=1)
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(run())


@webhooks_app.command("list")
def webhooks_list(
    status: Annotated[list[str] | None, typer.Option(help="failed, parked, unmatched (default: all three), "
                                                          "pending, applied, duplicate, discarded")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """List events that need attention: failed (cannot be applied), parked (out of retries), unmatched."""
    import json

    from runtime.webhooks import admin

    statuses = tuple(status) if status else admin.ATTENTION
    unknown = [s for s in statuses if s not in admin.ALL]
    if unknown:
        fail(f"--status: {', '.join(unknown)} is not one of {', '.join(admin.ALL)}", 2)
    settings = settings_or_exit()

    async def work(database):  # type: ignore[no-untyped-def]
        async with database.webhook_session() as session:
            return await admin.list_events(session, statuses, limit), await admin.counts(session)

    rows, totals = _with_database(settings, work)
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, default=str) + "\n")
        return
    out.print("events: " + (", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "none"), highlight=False)
    if not rows:
        out.print(f"nothing {'/'.join(statuses)}", highlight=False)
        return
    for row in rows:
        error = (row["last_error"] or "").replace("\n", " ")
        out.print(f"{row['id']:>8}  {row['status']:<9}  {row['event'] or '-':<22}  {row['envelope_id'] or '-':<36}  "
                  f"attempts {row['attempts']}  deliveries {row['deliveries']}  {row['received_at']:%Y-%m-%d %H:%M:%S}"
                  f"\n          {error[:200]}", highlight=False, soft_wrap=True)


@webhooks_app.command("replay")
def webhooks_replay(event_id: Annotated[int, typer.Argument(help="The event id shown by `webhooks list`")]) -> None:
    """Queue a failed, parked, unmatched or discarded event again (attempts reset); a running server applies it."""
    from runtime.webhooks import admin

    settings = settings_or_exit()

    async def work(database):  # type: ignore[no-untyped-def]
        async with database.webhook_session() as session:
            return await admin.replay(session, event_id)

    previous = _with_database(settings, work)
    if previous is None:
        fail(f"no webhook event {event_id}")
    if previous in ("applied", "duplicate", "pending"):
        fail(f"webhook event {event_id} is {previous}; only failed, parked, unmatched or discarded events are replayed")
    out.print(f"webhook event {event_id} queued again (was {previous})", highlight=False)


@webhooks_app.command("discard")
def webhooks_discard(event_id: Annotated[int, typer.Argument(help="The event id shown by `webhooks list`")]) -> None:
    """Stop retrying an event and take it off the list; the row and its raw body are kept."""
    from runtime.webhooks import admin

    settings = settings_or_exit()

    async def work(database):  # type: ignore[no-untyped-def]
        async with database.webhook_session() as session:
            return await admin.discard(session, event_id)

    previous = _with_database(settings, work)
    if previous is None:
        fail(f"no webhook event {event_id}")
    if previous in ("applied", "duplicate", "discarded"):
        fail(f"webhook event {event_id} is {previous}; there is nothing to discard")
    out.print(f"webhook event {event_id} discarded (was {previous})", highlight=False)


@connect_app.command("setup")
def connect_setup(
    url: Annotated[str, typer.Option("--url", help="Public URL of this server's Connect listener, "
                                                   "e.g. https://agent.example.com/webhooks/docusign")],
    user: Annotated[str | None, typer.Option("--user", help="Email of the user whose DocuSign account to "
                                                            "configure (default: the local user)")] = None,
) -> None:
    """Create or update the account's Connect configuration so DocuSign delivers to URL."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        fail("--url: must be an absolute http(s) URL", 2)
    settings = settings_or_exit()

    async def work(database):  # type: ignore[no-untyped-def]
        from agent.services import LOCAL_USER_EMAIL
        from docusign_agent.secrets import connect_hmac_keys
        from docusign_client.connect import configure_connect, configure_emulator_connect
        from db import profiles
        from docusign_client.clients import DocuSignClients

        email = user or LOCAL_USER_EMAIL
        async with database.owner_session() as session:
            user_id = await profiles.ensure_profile_by_email(session, email)
        async with database.user_session(user_id) as session:
            await profiles.ensure_profile(session, user_id, email)
        clients = DocuSignClients(settings, database)
        try:
            client = await clients.for_user(user_id)
            if settings.docusign_is_real:
                return await configure_connect(client, url)
            return await configure_emulator_connect(client, emulator_url=str(clients.emulator_url), url=url,
                                                    hmac_keys=connect_hmac_keys(settings))
        finally:
            await clients.aclose()

    try:
        result = _with_database(settings, work)
    except Exception as exc:  # noqa: BLE001 - one line for a person, not a traceback
        fail(f"Connect setup failed: {type(exc).__name__}: {exc}")
    out.print(f"Connect configuration {result['connect_id']} {result['action']}: deliveries go to {result['url']}",
              highlight=False)
    if settings.docusign_is_real:
        out.print("Deliveries are signed with HMAC: in DocuSign eSignature Settings > Connect > Connect Keys, add a "
                  "key and put it in DOCUSIGN_CONNECT_HMAC_KEYS (comma-separated; keep the old key listed while "
                  "rotating).", highlight=False, soft_wrap=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
