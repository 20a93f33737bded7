"""The FastAPI application: one port for the LangGraph API, webhooks, /v1 REST, the emulator and the UI.

The lifespan builds everything this app runs with (database, DocuSign clients, bus, chat models, the runs
runtime, the webhook service) and keeps it on `app.state`; runs receive theirs through the run context. So any
number of apps, each against its own database and settings, can run in one process, and nothing opens a
connection at import time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI

from agent.context import Dependencies, RunContext
from agent.model import chat_models, store_index
from api import docusign_auth, local_auth, v1, webhooks
from api.a2a import routes as a2a_routes
from api.assistants import routes as assistants_routes
from api.crons import routes as crons_routes
from api.auth import Authenticator, CurrentPrincipal
from api.errors import install_error_handlers
from api.http_setup import install_http_layers
from api.mcp.approvals import mcp_state_key
from api.mcp.server import McpEndpoint
from api.openapi import install_openapi
from api.runs import routes as runs_routes
from api.store import routes as store_routes
from api.threads import routes as threads_routes
from api.ui import install_ui
from db.bootstrap import open_database
from db.session import Database, DatabaseUrls
from docusign_agent import __version__
from docusign_agent.gc_tuning import tune_after_startup
from docusign_agent.secrets import connect_hmac_keys
from docusign_agent.settings import Settings, load_settings
from docusign_client.client import DocuSignClient
from docusign_client.clients import DocuSignClients
from docusign_client.connect import configure_emulator_connect, webhook_url
from emulator.app import create_emulator_app
from emulator.offline_model.app import create_offline_model_app
from runtime.bus import make_bus
from runtime.runs.process import RuntimeOptions, start_runtime, stop_runtime
from runtime.webhooks.service import WebhookService

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, urls: DatabaseUrls | None = None, *,
               runtime_options: RuntimeOptions | None = None) -> FastAPI:
    """`urls` skips database preparation (the CLI has already started, checked and migrated it);
    `runtime_options` serve other graphs or tune the run worker (tests)."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            database = Database(urls, settings.db_pool_size) if urls else await open_database(settings)
            stack.push_async_callback(database.dispose)
            # Reading secrets from DATA_DIR (and generating the emulator integration's RSA key the first time)
            # is blocking work: done on a thread, never on the event loop.
            authenticator = await asyncio.to_thread(Authenticator, settings, database)
            docusign = await asyncio.to_thread(DocuSignClients, settings, database,
                                               emulator_url=settings.docusign_emulator_url)
            stack.push_async_callback(docusign.aclose)
            if not settings.docusign_is_real:
                docusign.on_connect = _emulator_connect(settings, docusign, await asyncio.to_thread(
                    connect_hmac_keys, settings))
            bus = make_bus(settings)
            stack.push_async_callback(bus.aclose)
            models = await stack.enter_async_context(chat_models(settings))
            dependencies = Dependencies(settings=settings, database=database, docusign=docusign,
                                        chat_model=models.chat, analysis_model=models.analysis)
            runtime = await start_runtime(settings, database, bus, options=runtime_options,
                                          context=RunContext(dependencies=dependencies),
                                          store_index=store_index(settings))
            stack.push_async_callback(stop_runtime, runtime)
            await stack.enter_async_context(mcp.run())  # the MCP session manager, until the app stops
            service = await asyncio.to_thread(WebhookService, settings, database, bus=bus, docusign=docusign)
            await stack.enter_async_context(service)
            if emulator_app is not None:
                # A mounted app's lifespan never runs under Starlette's Mount: run the emulator's machinery here.
                await stack.enter_async_context(emulator_app.state.emulator.lifespan())
            app.state.settings = settings
            app.state.database = database
            app.state.authenticator = authenticator
            app.state.dependencies = dependencies
            # Seals the ids of held calls an MCP client was asked about (api/mcp/approvals.py); the same in
            # every process of a deployment, since a 2026-protocol retry may reach any of them.
            app.state.mcp_state_key = await asyncio.to_thread(mcp_state_key, settings)
            app.state.docusign_clients = docusign
            app.state.bus = bus
            app.state.runtime = runtime
            app.state.webhooks = service
            tune_after_startup(settings)  # the collector, for a long-lived process (docusign_agent/gc_tuning.py)
            yield

    # The emulator stands in for DocuSign only when no real DocuSign is configured (never beside it).
    emulator_app = None if settings.docusign_is_real or settings.docusign_emulator_url else _emulator_app(settings)
    app = FastAPI(title="docusign-agent", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    install_http_layers(app, settings)  # CORS, body size limits, request ids, JSON logs, /metrics
    for router in (assistants_routes.router, threads_routes.router, crons_routes.router, runs_routes.router,
                   store_routes.router, v1.router):
        app.include_router(router)  # the LangGraph API at the root path, and /v1 documents/preferences/keys
    app.include_router(webhooks.router)  # POST /webhooks/docusign, GET /v1/envelopes[/{id}], GET /v1/events
    app.add_middleware(webhooks.WebhookFastPath)  # outermost: Connect deliveries skip the API's layers
    app.include_router(docusign_auth.router)  # GET /auth/docusign/login, /auth/docusign/callback
    app.include_router(local_auth.router)  # GET|POST /auth/local: the chat page's sign-in on a loopback server
    app.include_router(a2a_routes.router)  # POST /a2a/{assistant_id}, GET /.well-known/agent-card.json
    mcp = McpEndpoint(settings)
    app.router.routes.extend(mcp.routes())  # /mcp (and its OAuth resource metadata when an issuer is set)

    if emulator_app is not None:
        app.mount("/_emulator", emulator_app)  # DocuSign REST, OAuth, Connect, control, and the offline model

    @app.get("/ok", tags=["meta"])
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/info", tags=["meta"])
    async def info() -> dict[str, Any]:
        return {
            "version": __version__,
            "langgraph_py_version": version("langgraph"),
            "flags": {"assistants": True, "crons": True, "langsmith": False},
            "model": settings.model_name,
            "model_is_offline": settings.model_is_offline,
            "docusign": "real" if settings.docusign_is_real else "emulator",
        }

    @app.get("/v1/me", tags=["v1"])
    async def me(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"user_id": str(principal.user_id), "email": principal.email, "via": principal.via}

    install_openapi(app)  # /openapi.json with every error the layers around the routes answer
    install_ui(app)  # last: the chat UI at `/`, answering only paths no API route matched
    return app


def _emulator_app(settings: Settings) -> FastAPI:
    emulator_app = create_emulator_app(snapshot_path=settings.emulator_snapshot_path)
    emulator_app.mount("/v1", create_offline_model_app(prefix=""))  # /_emulator/v1/chat/completions
    return emulator_app


def _emulator_connect(settings: Settings, clients: DocuSignClients, hmac_keys: list[str]):  # type: ignore[no-untyped-def]
    """Point each user's emulator account's Connect at our webhook, signed with our HMAC keys."""

    async def hook(client: DocuSignClient) -> None:
        await configure_emulator_connect(client, emulator_url=str(clients.emulator_url),
                                         url=webhook_url(settings.base_url), hmac_keys=hmac_keys)

    return hook
