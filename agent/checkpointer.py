"""Postgres checkpoints for every conversation, without a process-wide lock, under the user's row security.

`AsyncPostgresSaver` wraps every call in one `asyncio.Lock`, which is needed when it shares a single
connection but, over a pool, serialises all threads of the process behind one checkpoint write at a time.
Over a pool each call takes its own connection, so `PooledPostgresSaver` skips the lock; the benchmark in
`benchmarks/checkpointer_bench.py` measures the difference.

The checkpoint tables are under forced RLS keyed to the owner of the thread (`db.migrate.setup_checkpoints`),
so a saver acts for one user: `for_user(user_id)` gives a saver over the same pool that makes each connection
it takes act for that user (`app.user_id`) before its first statement, queued in the same pipeline when the
call writes, and skipped when the connection already acts for that user. The unbound saver acts for nobody
and sees no rows. Why not clear the setting when a connection goes back to the pool: that is a round trip on
every call, measured in docs/BENCHMARKS.md; the pool belongs to the saver alone, and every call sets its own
identity first, so a connection's previous user is never the one a call acts with.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from db.connections import check_idle_connection
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


_SET_USER = "SELECT set_config('app.user_id', %s, false)"
_ACTING_FOR = "_dsa_acting_for"  # attribute of a pooled connection: the user id it acts for


class PooledPostgresSaver(AsyncPostgresSaver):
    user_id: str = ""  # whose checkpoints this saver reads and writes; "" is nobody (RLS shows no rows)

    def for_user(self, user_id: uuid.UUID | str) -> PooledPostgresSaver:
        """This saver, over the same pool, acting for `user_id` (a shallow copy: microseconds)."""
        bound = copy.copy(self)
        bound.user_id = str(uuid.UUID(str(user_id)))
        return bound

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Every checkpoint, blob and pending write of one thread under another id, in one transaction (the
        Postgres saver leaves this to subclasses)."""
        params = {"src": str(source_thread_id), "dst": str(target_thread_id)}
        async with self._cursor(pipeline=False) as cur, cur.connection.transaction():
            for statement in _COPY:
                await cur.execute(statement, params)

    async def adelete_run(self, thread_id: str, run_id: str) -> None:
        """Rollback: forget what one run wrote, and any resume answer it left on the checkpoint it started
        from."""
        tid, rid = str(thread_id), str(run_id)
        async with self._cursor() as cur:
            await cur.execute(
                "DELETE FROM checkpoint_writes w USING checkpoints c WHERE c.thread_id = %s "
                "AND c.metadata->>'run_id' = %s AND w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns "
                "AND w.checkpoint_id = c.checkpoint_id", (tid, rid))
            await cur.execute("DELETE FROM checkpoints WHERE thread_id = %s AND metadata->>'run_id' = %s", (tid, rid))
            await cur.execute(
                "DELETE FROM checkpoint_writes WHERE thread_id = %s AND channel = '__resume__' AND checkpoint_id = "
                "(SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = %s AND checkpoint_ns = '')", (tid, tid))

    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[AsyncCursor[DictRow]]:
        if not isinstance(self.conn, AsyncConnectionPool):
            async with super()._cursor(pipeline=pipeline) as cur:
                yield cur
            return
        async with self.conn.connection() as conn:
            # Whom the connection acts for is kept on the connection itself, so a connection that already acts
            # for this user is not told again (a round trip saved per read), whichever saver told it.
            known = getattr(conn, _ACTING_FOR, None)
            try:
                if pipeline and self.supports_pipeline:
                    async with conn.pipeline(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                        if known != self.user_id:
                            setattr(conn, _ACTING_FOR, None)
                            await cur.execute(_SET_USER, (self.user_id,))  # queued with the call's statements
                        yield cur
                else:
                    if known != self.user_id:
                        setattr(conn, _ACTING_FOR, None)
                        await conn.execute(_SET_USER, (self.user_id,))
                    if pipeline:
                        async with conn.transaction(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                            yield cur
                    else:
                        async with conn.cursor(binary=True, row_factory=dict_row) as cur:
                            yield cur
            except BaseException:
                # A failed pipeline rolls its implicit transaction back, the setting with it: set it next time.
                setattr(conn, _ACTING_FOR, None)
                raise
            setattr(conn, _ACTING_FOR, self.user_id)


def open_pool(url: str, *, max_size: int = 10) -> AsyncConnectionPool:
    """The psycopg pool the saver's README asks for: autocommit and dict rows. `prepare_threshold=0` prepares
    every statement on its first use, so each checkpoint statement is parsed and planned once per connection
    (`None` would turn server-side prepares off, which PgBouncer in transaction mode before 1.21 needs). Each checkout is checked, so a connection that did
    not survive a Postgres restart is replaced rather than handed to a run."""
    return AsyncConnectionPool(
        driver_url(url, "libpq"),
        min_size=1,
        max_size=max_size,
        open=False,
        check=check_idle_connection,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )


def make_checkpointer(pool: AsyncConnectionPool) -> PooledPostgresSaver:
    return PooledPostgresSaver(pool)  # type: ignore[arg-type]
