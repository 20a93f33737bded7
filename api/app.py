"""The FastAPI application: one port for the LangGraph API, webhooks, /v1 REST, the emulator and the UI.

Everything the routes need lives on `app.state.services`, created in the lifespan, so tests can build an app
against any database and nothing opens a connection at import time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import docusign_auth, webhooks
from api.assistants import routes as assistants_routes
from api.runs import routes as runs_routes
from api.threads import routes as threads_routes
from api.v1 import routes as v1_routes
from api.auth import Authenticator, CurrentPrincipal
from api.errors import install_error_handlers
from api.http_setup import install_http_layers
from runtime.runs.process import start_runtime, stop_runtime
from db.bootstrap import open_database
from db.session import Database, DatabaseUrls
from docusign_agent import __version__
from docusign_agent.settings import Settings, load_settings
from docusign_client.clients import DocuSignClients, set_clients
from docusign_agent.secrets import connect_hmac_keys

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, urls: DatabaseUrls | None = None) -> FastAPI:
    """`urls` skips database preparation (the CLI has already started, checked and migrated it)."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(urls, settings.db_pool_size) if urls else await open_database(settings)
        app.state.settings = settings
        app.state.database = database
        app.state.authenticator = Authenticator(settings, database)
        # The DocuSign client layer, shared by every tool (emulator mode: ours under /_emulator, or one elsewhere)
        docusign_clients = DocuSignClients(settings, database, emulator_url=settings.docusign_emulator_url)
        app.state.docusign_clients = docusign_clients
        set_clients(docusign_clients)
        if not settings.docusign_is_real:
            docusign_clients.on_connect = _emulator_connect(settings, docusign_clients)
        try:
            await start_runtime(app, settings, database)  # bus (app.state.bus), checkpointer, run worker
            async with webhooks.running(app, settings, database), _emulator_running(emulator_app):
                yield
        finally:
            await stop_runtime(app)  # settles runs still executing; closes the bus after the webhooks stopped
            set_clients(None)
            await docusign_clients.aclose()
            await database.dispose()

    # The emulator stands in for DocuSign only when no real DocuSign is configured (never beside it).
    emulator_app = None if settings.docusign_is_real or settings.docusign_emulator_url else _emulator_app(settings)
    app = FastAPI(title="docusign-agent", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    install_http_layers(app, settings)  # CORS, body size limits, request ids, JSON logs, /metrics
    for router in (assistants_routes.router, threads_routes.router, runs_routes.router, v1_routes.router):
        app.include_router(router)  # the LangGraph API at the root path, and /v1 documents/preferences/keys
    app.include_router(webhooks.router)  # POST /webhooks/docusign, GET /v1/envelopes[/{id}], GET /v1/events
    app.add_middleware(webhooks.WebhookFastPath)  # outermost: Connect deliveries skip the API's layers
    app.include_router(docusign_auth.router)  # GET /auth/docusign/login, /auth/docusign/callback

    if emulator_app is not None:
        app.mount("/_emulator", emulator_app)  # DocuSign REST, OAuth, Connect, control, and the offline model

    @app.get("/ok", tags=["meta"])
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/info", tags=["meta"])
    async def info() -> dict[str, Any]:
        return {
            "version": __version__,
            "langgraph_py_version": _langgraph_version(),
            "flags": {"assistants": True, "crons": False, "langsmith": False},
            "model": settings.model_name,
            "model_is_offline": settings.model_is_offline,
            "docusign": "real" if settings.docusign_is_real else "emulator",
        }

    @app.get("/v1/me", tags=["v1"])
    async def me(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"user_id": str(principal.user_id), "email": principal.email, "via": principal.via}

    return app


def _emulator_app(settings: Settings) -> FastAPI:
    from emulator.app import create_emulator_app
    from emulator.offline_model.app import create_offline_model_app

    emulator_app = create_emulator_app(snapshot_path=settings.emulator_snapshot_path)
    emulator_app.mount("/v1", create_offline_model_app(prefix=""))  # /_emulator/v1/chat/completions
    return emulator_app


@asynccontextmanager
async def _emulator_running(emulator_app: FastAPI | None) -> AsyncIterator[None]:
    """A mounted app's lifespan never runs under Starlette's Mount: run the emulator's machinery here."""
    if emulator_app is None:
        yield
        return
    async with emulator_app.state.emulator.lifespan():
        yield


def _emulator_connect(settings: Settings, clients: DocuSignClients):  # type: ignore[no-untyped-def]
    """Point each user's emulator account's Connect at our webhook, signed with our HMAC keys."""
    from docusign_client.connect import configure_emulator_connect, webhook_url

    hmac_keys = connect_hmac_keys(settings)  # read once, here, not on the event loop per user

    async def hook(client: Any) -> None:
        await configure_emulator_connect(client, emulator_url=str(clients.emulator_url),
                                         url=webhook_url(settings.base_url), hmac_keys=hmac_keys)

    return hook


def _langgraph_version() -> str:
    from importlib.metadata import version

    return version("langgraph")
