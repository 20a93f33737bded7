"""Database handles: one pooled engine per role, and sessions that carry the acting user for RLS.

Every query the product makes on behalf of a person goes through `user_session`, which opens a transaction and
sets `app.user_id` for that transaction only (`set_config(..., true)`), so a pooled connection never carries one
user's identity into another's request.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker,
                                    create_async_engine)

from db.connections import check_on_checkout
from db.urls import driver_url


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str
    app: str
    webhook: str
    runs: str  # the run worker's role: only the cross-user run functions (claim, heartbeat, sweep)


def json_text(value: Any) -> str:
    """JSON text for a JSONB column or parameter: one orjson pass (the stdlib encoder was a measurable share of
    a run's CPU; see docs/BENCHMARKS.md). Integers beyond 64 bits, which orjson refuses, go through the stdlib."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def _engine(url: str, pool_size: int) -> AsyncEngine:
    """No pre-ping round trip: a connection whose server went away is replaced at checkout for free
    (`check_on_checkout`). Connecting gives up after 10 s, so an unreachable database is a prompt 503.

    Up to 2 * `pool_size` connections, all kept once opened: with overflow connections instead, a server under
    load closed and reopened one per transaction beyond `pool_size` (a TLS attempt, authentication and a new
    backend each time: 0.5 ms of the server's CPU per benchmark turn, docs/BENCHMARKS.md) for the same peak."""
    engine = create_async_engine(
        driver_url(url, "asyncpg"),
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        pool_recycle=1800,
        json_serializer=json_text,
        json_deserializer=orjson.loads,
        connect_args={"server_settings": {"application_name": "docusign-agent"}, "timeout": 10},
    )
    check_on_checkout(engine)
    return engine


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
    async def user_connection(self, user_id: uuid.UUID | str) -> AsyncIterator[asyncpg.Connection]:
        """`user_session` as a bare asyncpg connection, for the few statements of every run (create, load,
        settle) where SQLAlchemy's compile and ORM work cost more than the query: BEGIN and the identity go
        in one round trip, JSONB parameters are JSON text (`json_text`), JSONB results arrive decoded.
        Commits on success; a failed or cancelled transaction is rolled back, or its connection discarded."""
        uid = str(uuid.UUID(str(user_id)))  # a UUID's text cannot carry SQL: safe to inline
        async with self.app_engine.connect() as handle:
            conn = await driver_connection(handle)
            try:
                await conn.execute(f"BEGIN; SELECT set_config('app.user_id', '{uid}', true)")
                yield conn
                await conn.execute("COMMIT")
            except BaseException:
                await _discard_transaction(handle, conn)
                raise

    @asynccontextmanager
    async def run_worker_connection(self) -> AsyncIterator[asyncpg.Connection]:
        """`run_worker_session` as a bare asyncpg connection with no transaction: each statement commits alone
        (a claim is one call of a definer function, which needs no more)."""
        async with self.runs_engine.connect() as handle:
            conn = await driver_connection(handle)
            try:
                yield conn
            except BaseException:
                await _discard_transaction(handle, conn)
                raise

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


async def driver_connection(handle: AsyncConnection | AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under a SQLAlchemy connection or session (inside its transaction, once that has
    executed a statement), for plain-SQL statements on the run path."""
    raw = await handle.get_raw_connection() if isinstance(handle, AsyncConnection) else \
        await (await handle.connection()).get_raw_connection()
    return raw.driver_connection  # type: ignore[return-value]


async def _discard_transaction(handle: AsyncConnection, conn: asyncpg.Connection) -> None:
    """After a failure inside a bare transaction: roll it back, or, when the connection is mid-query (cancelled)
    or broken, drop the connection from the pool so no later user inherits its state."""
    try:
        if not conn.is_closed() and conn.is_in_transaction():
            await conn.execute("ROLLBACK")
    except Exception:
        await handle.invalidate()
