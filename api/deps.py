"""What routes take from the app, as FastAPI dependencies: its runs runtime, database, settings, bus.

Everything lives on `app.state`, set by the lifespan in `api/app.py`, so a test can build any number of apps
(each against its own database) and nothing opens a connection at import time. They are coroutines because
FastAPI runs a plain function dependency in a worker thread: a thread hop per dependency per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from db.session import Database
from docusign_agent.settings import Settings
from runtime.bus import EventBus
from runtime.runs.process import AgentRuntime


async def app_runtime(request: Request) -> AgentRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def app_database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


async def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def _bus(request: Request) -> EventBus:
    return request.app.state.bus  # type: ignore[no-any-return]


Runtime = Annotated[AgentRuntime, Depends(app_runtime)]
Db = Annotated[Database, Depends(app_database)]
AppSettings = Annotated[Settings, Depends(_settings)]
Bus = Annotated[EventBus, Depends(_bus)]
