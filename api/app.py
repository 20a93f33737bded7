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

from api.auth import Authenticator, CurrentPrincipal
from api.errors import install_error_handlers
from db.bootstrap import open_database
from db.session import Database, DatabaseUrls
from docusign_agent import __version__
from docusign_agent.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, urls: DatabaseUrls | None = None) -> FastAPI:
    """`urls` skips database preparation (the CLI has already started, checked and migrated it)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(urls, settings.db_pool_size) if urls else await open_database(settings)
        app.state.settings = settings
        app.state.database = database
        app.state.authenticator = Authenticator(settings, database)
        try:
            yield
        finally:
            await database.dispose()

    app = FastAPI(title="docusign-agent", version=__version__, lifespan=lifespan)
    install_error_handlers(app)

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


def _langgraph_version() -> str:
    from importlib.metadata import version

    return version("langgraph")
