"""Postgres checkpoints for every conversation, without a process-wide lock.

`AsyncPostgresSaver` wraps every call in one `asyncio.Lock`, which is needed when it shares a single
connection but, over a pool, serialises all threads of the process behind one checkpoint write at a time.
Over a pool each call takes its own connection, so `PooledPostgresSaver` skips the lock; the benchmark in
`benchmarks/checkpointer_bench.py` measures the difference.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from db.urls import driver_url

class PooledPostgresSaver(AsyncPostgresSaver):
    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[AsyncCursor[DictRow]]:
        if not isinstance(self.conn, AsyncConnectionPool):
            async with super()._cursor(pipeline=pipeline) as cur:
                yield cur
            return
        async with self.conn.connection() as conn:
            if pipeline and self.supports_pipeline:
                async with conn.pipeline(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                    yield cur
            elif pipeline:
                async with conn.transaction(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                    yield cur
            else:
                async with conn.cursor(binary=True, row_factory=dict_row) as cur:
                    yield cur


def open_pool(url: str, *, max_size: int = 10) -> AsyncConnectionPool:
    """The psycopg pool the saver's README asks for: autocommit, dict rows, no server-side prepares
    (prepare_threshold=0 keeps it safe behind PgBouncer in transaction mode)."""
    return AsyncConnectionPool(
        driver_url(url, "libpq"),
        min_size=1,
        max_size=max_size,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )


def make_checkpointer(pool: AsyncConnectionPool) -> PooledPostgresSaver:
    return PooledPostgresSaver(pool)  # type: ignore[arg-type]
