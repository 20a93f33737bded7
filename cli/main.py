"""The `docusign-agent` command: serve, the emulator alone, migrations, tokens (webhooks and Connect: `cli/webhooks.py`).

Configuration problems end the command with one line on stderr and a non-zero exit, never a traceback.

The server stack (FastAPI app, LangGraph, LangChain, the SDK) takes seconds to import, so `serve` and
`emulator` import it when they run; every other command starts without it.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from email_validator import EmailNotValidError, validate_email

from api.auth import issue_token
from cli import mirror, webhooks
from cli.evals import evals_app
from cli.common import app, fail, out, prepared, settings_or_exit, with_database
from db import profiles
from db.session import DatabaseUrls
from docusign_agent.settings import Settings

app.add_typer(webhooks.webhooks_app, name="webhooks")
app.add_typer(webhooks.connect_app, name="connect")
app.add_typer(evals_app, name="evals")
app.add_typer(mirror.mirror_app, name="mirror")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes; more than one needs REDIS_URL")] = 1,
    config: Annotated[str | None, typer.Option(help="langgraph.json naming the graphs to serve "
                                                    "(default: ./langgraph.json, else the agent graph)")] = None,
) -> None:
    """Serve the API, webhooks and emulator on one port."""
    from api.app import (
        create_app,  # the server stack: only the commands that serve import it (module docstring)
    )
    from api.connections import http_protocol
    from runtime.runs.graph_config import GraphConfigError, registry_for

    overrides: dict[str, object] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    if config is not None:
        overrides["langgraph_config"] = Path(config).resolve()  # the workers may start in another directory
    settings = settings_or_exit(**overrides)
    try:
        graphs = registry_for(settings.langgraph_config)  # every graph imported before anything starts
    except GraphConfigError as exc:
        fail(str(exc), 2)
    urls = prepared(settings)
    out.print(f"docusign-agent on [bold]{settings.base_url}[/] (model: {settings.model_name}"
              f"{' — the offline model' if settings.model_is_offline else ''}; graphs: {', '.join(graphs.graph_ids)})",
              highlight=False)
    # uvicorn re-raises SIGTERM after its graceful shutdown; turning it into SystemExit lets atexit stop the
    # embedded Postgres instead of leaving it running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if workers > 1:
        _serve_workers(settings, urls, workers)
        return
    uvicorn.run(create_app(settings, urls), host=settings.host, port=settings.port, log_level="warning",
                proxy_headers=True, timeout_graceful_shutdown=5, http=http_protocol(settings))


def _serve_workers(settings: Settings, urls: DatabaseUrls, workers: int) -> None:
    """Several uvicorn worker processes on one port. They share runs through Redis and Postgres, so Redis is
    required, and DocuSign must be real or one emulator served apart (each process would hold its own)."""
    from api.connections import http_protocol  # the server stack, as in `serve`

    if not settings.redis_url:
        fail("--workers > 1 needs REDIS_URL: the processes share run events, cancellations and the envelope read "
             "cache through Redis", 2)
    if not settings.docusign_is_real and not settings.docusign_emulator_url:
        fail("--workers > 1 needs real DocuSign or one shared emulator: run `docusign-agent emulator` and set "
             "DOCUSIGN_EMULATOR_URL", 2)
    # The workers re-read settings from the environment: hand them the database this process prepared (the
    # embedded server, if any, lives as long as this supervising process).
    os.environ.update({"DATABASE_URL": urls.owner, "APP_DATABASE_URL": urls.app, "WEBHOOK_DATABASE_URL": urls.webhook,
                       "RUNS_DATABASE_URL": urls.runs,
                       "HOST": settings.host, "PORT": str(settings.port)})
    if settings.langgraph_config is not None:
        os.environ["LANGGRAPH_CONFIG"] = str(settings.langgraph_config)
    # uvicorn kills a worker that has not finished starting within `timeout_worker_healthcheck` (5 s by default)
    # and starts another; on a loaded machine starting one takes longer than that, so they were replaced forever.
    # The header timeout and the per-address connection limit (`api/connections.py`) hold in each worker: a
    # worker counts the connections it holds, so an address may hold up to `workers` times the limit.
    uvicorn.run("api.app:create_app", factory=True, host=settings.host, port=settings.port, workers=workers,
                log_level="warning", proxy_headers=True, timeout_graceful_shutdown=5, timeout_worker_healthcheck=120,
                http=http_protocol(settings))


@app.command()
def emulator(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8400,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    snapshot: Annotated[str | None, typer.Option(help="Keep the emulator's state in this JSON file")] = None,
) -> None:
    """Serve the DocuSign emulator alone (under /_emulator), e.g. for another client or a demo."""
    from emulator.standalone import build_standalone_app  # imported by the command that serves it, as above

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
    try:
        email = validate_email(user, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        fail(f"--user: {exc}", 2)
    settings = settings_or_exit()
    user_id = with_database(settings, lambda database: profiles.ensure_user(database, email))
    sys.stdout.write(issue_token(settings, user_id, email, ttl) + "\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
