"""Database handles: one pooled engine per role, and sessions that carry the acting user for RLS.

Every query the product makes on behalf of a person goes through `user_session`, which opens a transaction and
sets `app.user_id` for that transaction only (`set_config(..., true)`), so a pooled connection never carries one
user's identity into another's request.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from db.urls import driver_url


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str
    app: str
    webhook: str
    runs: str  # the run worker's role: only the cross-user run functions (claim, heartbeat, sweep)


def _engine(url: str, pool_size: int) -> AsyncEngine:
    return create_async_engine(
        driver_url(url, "asyncpg"),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={"server_settings": {"application_name": "docusign-agent"}},
    )


class Database:
    def __init__(self, urls: DatabaseUrls, pool_size: int = 10) -> None:
        self.urls = urls
        self.app_engine = _engine(urls.app, pool_size)
        self.webhook_engine = _engine(urls.webhook, max(2, pool_size // 2))
        self.runs_engine = _engine(urls.runs, 2)  # a claim, a heartbeat and a sweep at a time
        self._owner_engine: AsyncEngine | None = None
        self._app_sessions = async_sessionmaker(self.app_engine, expire_on_commit=False)
        self._webhook_sessions = async_sessionmaker(self.webhook_engine, expire_on_commit=False)
        self._runs_sessions = async_sessionmaker(self.runs_engine, expire_on_commit=False)

    @property
    def owner_engine(self) -> AsyncEngine:
        """Only for administration (CLI, tests); never used on behalf of a request."""
        if self._owner_engine is None:
            self._owner_engine = _engine(self.urls.owner, 2)
        return self._owner_engine

    @asynccontextmanager
    async def user_session(self, user_id: uuid.UUID | str) -> AsyncIterator[AsyncSession]:
        """A transaction as the app role, seeing only `user_id`'s rows. Commits on success."""
        async with self._app_sessions() as session, session.begin():
            await session.execute(
                text("SELECT set_config('app.user_id', :uid, true)"), {"uid": str(uuid.UUID(str(user_id)))}
            )
            yield session

    @asynccontextmanager
    async def anonymous_session(self) -> AsyncIterator[AsyncSession]:
        """The app role with no user: RLS shows nothing; only definer functions (API key lookup) answer."""
        async with self._app_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def webhook_session(self) -> AsyncIterator[AsyncSession]:
        async with self._webhook_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def run_worker_session(self) -> AsyncIterator[AsyncSession]:
        """The run worker's role: it may only call the run functions that act across users (claim, heartbeat,
        sweep), which the app role cannot."""
        async with self._runs_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def owner_session(self) -> AsyncIterator[AsyncSession]:
        async with async_sessionmaker(self.owner_engine, expire_on_commit=False)() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.app_engine.dispose()
        await self.webhook_engine.dispose()
        await self.runs_engine.dispose()
        if self._owner_engine is not None:
            await self._owner_engine.dispose()
