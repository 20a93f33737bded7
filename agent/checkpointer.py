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

_COPY = (
    "INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, "
    "metadata) SELECT %(dst)s, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, "
    "CASE WHEN metadata ? 'thread_id' THEN jsonb_set(metadata, '{thread_id}', to_jsonb(%(dst)s::text)) "
    "ELSE metadata END FROM checkpoints WHERE thread_id = %(src)s",
    "INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob) "
    "SELECT %(dst)s, checkpoint_ns, channel, version, type, blob FROM checkpoint_blobs WHERE thread_id = %(src)s",
    "INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, "
    "task_path) SELECT %(dst)s, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path "
    "FROM checkpoint_writes WHERE thread_id = %(src)s",
)


class PooledPostgresSaver(AsyncPostgresSaver):
    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Every checkpoint, blob and pending write of one thread under another id, in one transaction (the
        Postgres saver leaves this to subclasses)."""
        params = {"src": str(source_thread_id), "dst": str(target_thread_id)}
        async with self._cursor(pipeline=False) as cur, cur.connection.transaction():
            for statement in _COPY:
                await cur.execute(statement, params)

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
