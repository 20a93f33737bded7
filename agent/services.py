"""The process's shared services, as the graph's nodes and tools see them.

Our server installs them at start-up (`install`). When the graph runs anywhere else (`langgraph dev`, a
notebook, the eval runner) the first call to `get_services` builds them from settings, the same way `serve`
would: embedded Postgres when DATABASE_URL is unset, the in-process emulator when DocuSign isn't configured.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from db.session import Database
from docusign_agent.settings import Settings, load_settings

LOCAL_USER_EMAIL = "local@docusign-agent.invalid"


@dataclass
class Services:
    settings: Settings
    database: Database
    _default_user: uuid.UUID | None = None

    async def default_user_id(self) -> uuid.UUID:
        """The user of a graph run that came with no identity (only outside our authenticated server)."""
        if self._default_user is None:
            from db import profiles

            async with self.database.owner_session() as session:
                user = await profiles.ensure_profile_by_email(session, LOCAL_USER_EMAIL, "Local user")
            async with self.database.user_session(user) as session:
                await profiles.ensure_profile(session, user, LOCAL_USER_EMAIL)
            self._default_user = user
        return self._default_user


_services: Services | None = None
_lock = asyncio.Lock()


def install(services: Services | None) -> None:
    global _services
    _services = services


def installed() -> Services | None:
    return _services


async def get_services() -> Services:
    global _services
    if _services is not None:
        return _services
    async with _lock:
        if _services is None:
            _services = await build_standalone(load_settings())
    return _services


async def build_standalone(settings: Settings) -> Services:
    from db.bootstrap import open_database

    database = await open_database(settings)
    # Importing the emulator and the SDK, and reading key files from DATA_DIR, are blocking work: do them
    # off the event loop (langgraph dev rightly refuses blocking calls on it).
    await asyncio.to_thread(_start_docusign, settings, database)
    return Services(settings=settings, database=database)


def _start_docusign(settings: Settings, database: Database) -> None:
    from docusign_client.clients import DocuSignClients, set_clients

    emulator_url = None
    if not settings.docusign_is_real:
        from emulator.background import start_background_emulator

        emulator_url = start_background_emulator(settings.emulator_snapshot_path)
    set_clients(DocuSignClients(settings, database, emulator_url=emulator_url))
