"""Connections that outlive their server: checking pooled connections on checkout, and naming an outage.

After Postgres restarts (or a backend is terminated), every connection a pool kept is dead, and handing one
out fails the first requests and runs with "server closed the connection unexpectedly". Each pool checks on
checkout without a round trip on a healthy connection:

- asyncpg (the SQLAlchemy engines, the webhook pool) reads its socket on the event loop, so a terminated
  backend's connection already says `is_closed()`; the SQLAlchemy engines turn that into a
  `DisconnectionError` at checkout, which makes the pool connect anew (asyncpg's own pool does it itself).
- psycopg (the checkpointer's pool) reads only when asked; an idle pooled connection has nothing to read, so
  a readable socket means the server sent its goodbye (or closed): only then is the connection asked, and a
  dead one is replaced by the pool. The socket is polled with `poll()`, never `select()`: a server holding
  a thousand event streams gives its database sockets descriptors past `select()`'s 1024 limit, where every
  check failed, and the pool discarded and reopened healthy connections until runs timed out waiting for one
  (`benchmarks/fanout_bench.py` found it: 200 streaming runs beside 1,000 idle streams).

`is_unavailable` is the one rule for "the database is not answering, for now", which the API answers with
503 and `Retry-After` and the Connect receiver with 503 so that DocuSign retries.
"""

from __future__ import annotations

import select
from typing import Any

import asyncpg
import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine

# Unreachable or dropped connections (class 08), shutting down or cancelled (57), out of connections or
# resources (53), serialization conflicts (40), a read-only standby after a failover (25006).
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "57", "53", "40")
UNAVAILABLE_SQLSTATES = ("25006",)
UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError, asyncpg.TransactionRollbackError, asyncpg.ReadOnlySQLTransactionError,
    psycopg.OperationalError, PoolTimeout, exc.DisconnectionError,
)
# Where a socket error comes from a database driver (connecting, reading, writing), it is the database's.
DRIVER_PACKAGES = ("/asyncpg/", "/sqlalchemy/", "/psycopg/", "/psycopg_pool/")


def _raised_by_driver(error: BaseException) -> bool:
    tb = error.__traceback__
    while tb is not None:
        if any(package in tb.tb_frame.f_code.co_filename for package in DRIVER_PACKAGES):
            return True
        tb = tb.tb_next
    return False


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` (or what it wraps: SQLAlchemy wraps the driver's errors) means the database is not
    answering for now, so that a retry later may succeed; not a refusal only an administrator can fix.

    A bare OSError or timeout counts only when a database driver raised it: the same errors from a DocuSign
    call or a file are not an outage of the database."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, UNAVAILABLE):
            return True
        if isinstance(current, OSError | TimeoutError) and _raised_by_driver(current):
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and (sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES
                                          or sqlstate in UNAVAILABLE_SQLSTATES):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


def check_on_checkout(engine: AsyncEngine) -> None:
    """A connection whose server has gone is replaced at checkout, before any statement is sent on it."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and driver.is_closed():
            raise exc.DisconnectionError("the server closed this pooled connection")


async def check_idle_connection(conn: psycopg.AsyncConnection[Any]) -> None:
    """psycopg_pool's `check`: raise for a dead connection (the pool discards it and hands out another).

    Free on a healthy idle connection: a zero-timeout poll of its socket. Only a readable (or closed) one is
    asked with an empty query."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the pooled connection is closed")
    try:
        readable = _readable_now(conn.fileno())
    except (OSError, ValueError) as error:
        raise psycopg.OperationalError(f"the pooled connection's socket is gone: {error}") from error
    if readable:
        await AsyncConnectionPool.check_connection(conn)


def _readable_now(fd: int) -> bool:
    """Whether `fd` has something to read (or was closed by the peer), without waiting. `poll()` takes any
    descriptor; `select()` (kept for platforms without `poll`) refuses those past FD_SETSIZE."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)
