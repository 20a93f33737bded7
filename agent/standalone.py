"""The one fallback: dependencies for the graph when it runs outside our server (`langgraph dev`, a notebook).

Our executor always hands a run its dependencies in the runtime context. A server that is not ours cannot, so
the first run without them builds them here from settings, exactly as `serve` would (embedded Postgres when
DATABASE_URL is unset, an emulator on a background thread when DocuSign is not configured, the offline model
when no model is), and every later run of the process reuses them. This module holds the only process-wide
service state in the product; nothing in our server reads it.
"""

from __future__ import annotations

import asyncio

from agent.context import Dependencies
from agent.model import make_chat_model, offline_http_client
from db import profiles
from db.bootstrap import open_database
from docusign_agent.settings import load_settings
from docusign_client.clients import DocuSignClients
from emulator.background import start_background_emulator

_dependencies: Dependencies | None = None
_building: asyncio.Lock | None = None


async def shared_dependencies() -> Dependencies:
    """This process's dependencies, built on first use (concurrent first runs wait for one build)."""
    global _building, _dependencies
    if _dependencies is not None:
        return _dependencies
    if _building is None:
        _building = asyncio.Lock()
    async with _building:
        if _dependencies is None:
            _dependencies = await _build()
    return _dependencies


async def _build() -> Dependencies:
    settings = load_settings()
    database = await open_database(settings)
    # Starting the emulator, reading or generating key files in DATA_DIR: blocking work, off the event loop
    # (langgraph dev rightly refuses blocking calls on it).
    emulator_url = None if settings.docusign_is_real else await asyncio.to_thread(
        start_background_emulator, settings.emulator_snapshot_path)
    docusign = await asyncio.to_thread(DocuSignClients, settings, database, emulator_url=emulator_url)
    offline_http = offline_http_client() if settings.model_is_offline else None  # lives as long as the process
    return Dependencies(
        settings=settings, database=database, docusign=docusign,
        chat_model=make_chat_model(settings, offline_http=offline_http),
        analysis_model=make_chat_model(settings, streaming=False, offline_http=offline_http),
        default_user_id=await profiles.ensure_user(database, profiles.LOCAL_USER_EMAIL, "Local user"),
    )
