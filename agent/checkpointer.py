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

Writes take one statement per call (measured in docs/BENCHMARKS.md: 19 -> 9 checkpoint statements per trivial
turn). The stock saver sends one INSERT per blob and per pending write; here a checkpoint and its blobs are one
statement (the blobs in a data-modifying CTE over `unnest` arrays), and a task's writes one more. A single
statement in autocommit is its own transaction, so a checkpoint is still stored with all its blobs or not at
all, and every completed superstep is durable when its `aput` returns, as before. Values are serialised on
the event loop rather than in a thread per call as the stock saver does: the hop (pool submit, two wake-ups)
is pure overhead on a GIL-bound process for a turn's few kilobytes, though a very large state now holds the
loop while it is encoded. JSON goes through orjson both ways. Reads decode a checkpoint's pending writes on the
loop too (the stock saver hands them to a thread, one hop per read, though they are usually none).

A run's executor reads its final state from what the run stored last (`remembering()`, `agent/checkpoint_memo.py`)
instead of fetching and decoding the whole thread again.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (WRITES_IDX_MAP, ChannelVersions, Checkpoint, CheckpointMetadata,
                                       CheckpointTuple, get_serializable_checkpoint_metadata)
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb, set_json_loads
from psycopg_pool import AsyncConnectionPool

from agent.checkpoint_memo import CheckpointMemo
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


# A checkpoint and the blobs of the channels it changed: one statement, one transaction (autocommit).
_PUT = """
WITH blobs AS (
    INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
    SELECT %(thread_id)s, %(ns)s, b.channel, b.version, b.type, b.blob
    FROM unnest(%(channels)s::text[], %(versions)s::text[], %(types)s::text[], %(blobs)s::bytea[])
        AS b(channel, version, type, blob)
    ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
)
INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
VALUES (%(thread_id)s, %(ns)s, %(checkpoint_id)s, %(parent_id)s, %(checkpoint)s, %(metadata)s)
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id)
DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata
"""
# One task's writes: one statement. Special writes (errors, interrupts, resumes: fixed negative indexes)
# replace an earlier one of the same kind, regular writes are kept as first written (the stock saver's rules).
_WRITES = """
INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
SELECT %(thread_id)s, %(ns)s, %(checkpoint_id)s, %(task_id)s, %(task_path)s, w.idx, w.channel, w.type, w.blob
FROM unnest(%(idxs)s::int[], %(channels)s::text[], %(types)s::text[], %(blobs)s::bytea[]) AS w(idx, channel, type, blob)
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO """
_INSERT_WRITES = _WRITES + "NOTHING"
_UPSERT_WRITES = _WRITES + "UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob"

_SET_USER = "SELECT set_config('app.user_id', %s, false)"
_ACTING_FOR = "_dsa_acting_for"  # attribute of a pooled connection: the user id it acts for


class PooledPostgresSaver(AsyncPostgresSaver):
    user_id: str = ""  # whose checkpoints this saver reads and writes; "" is nobody (RLS shows no rows)
    memo: CheckpointMemo | None = None  # what this saver stored last, for one run (see `remembering`)

    def for_user(self, user_id: uuid.UUID | str) -> PooledPostgresSaver:
        """This saver, over the same pool, acting for `user_id` (a shallow copy: microseconds)."""
        bound = copy.copy(self)
        bound.user_id = str(uuid.UUID(str(user_id)))
        bound.memo = None
        return bound

    def remembering(self) -> PooledPostgresSaver:
        """This saver for one run: it keeps the last root checkpoint it stores, so that once the run is seen to
        complete (`memo.trust()`) the run's final state is read back from memory (`agent/checkpoint_memo.py`)."""
        bound = copy.copy(self)
        bound.memo = CheckpointMemo(loads=self.serde.loads_typed)
        return bound

    def trust_remembered(self) -> None:
        """The run this saver serves has completed: reads of its thread's latest checkpoint may use the memo."""
        if self.memo is not None:
            self.memo.trust()

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        if self.memo is not None and (remembered := self.memo.latest(config)) is not None:
            return remembered
        return await super().aget_tuple(config)

    async def _load_checkpoint_tuple(self, value: DictRow) -> CheckpointTuple:
        """A stored row as a tuple, its pending writes decoded on the loop (the stock saver uses a thread)."""
        thread_id, ns = value["thread_id"], value["checkpoint_ns"]
        parent = value["parent_checkpoint_id"]
        if self.memo is not None and not ns and value["channel_values"]:
            self.memo.read(str(thread_id), value["checkpoint"].get("channel_versions") or {}, value["channel_values"])
        return CheckpointTuple(
            {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": value["checkpoint_id"]}},
            {**value["checkpoint"], "channel_values": {**(value["checkpoint"].get("channel_values") or {}),
                                                      **self._load_blobs(value["channel_values"])}},
            value["metadata"],
            {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": parent}} if parent else None,
            self._load_writes(value["pending_writes"]),
        )

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                   new_versions: ChannelVersions) -> RunnableConfig:
        """Store a checkpoint with the blobs of the channels this step changed, in one statement."""
        configurable = config["configurable"]
        thread_id, ns = configurable["thread_id"], configurable["checkpoint_ns"]
        inline = dict(checkpoint["channel_values"])
        blob_values: dict[str, Any] = {}
        for channel, value in checkpoint["channel_values"].items():
            if isinstance(value, _DeltaSnapshot):  # a delta channel's snapshot: a blob, marked in the row
                blob_values[channel] = inline.pop(channel)
                inline[channel] = True
            elif not (value is None or isinstance(value, str | int | float | bool)):
                blob_values[channel] = inline.pop(channel)  # primitives stay inline in the row, as upstream
        blobs = self._dump_blobs(thread_id, ns, blob_values,
                                 {k: v for k, v in new_versions.items() if k in blob_values})
        stored_metadata = get_serializable_checkpoint_metadata(config, metadata)
        stored_checkpoint = {**checkpoint, "channel_values": inline}
        params = {
            "thread_id": thread_id, "ns": ns, "checkpoint_id": checkpoint["id"],
            "parent_id": configurable.get("checkpoint_id"),
            "channels": [b[2] for b in blobs], "versions": [b[3] for b in blobs],
            "types": [b[4] for b in blobs], "blobs": [b[5] for b in blobs],
            "checkpoint": Jsonb(stored_checkpoint, dumps=_json),
            "metadata": Jsonb(stored_metadata, dumps=_json),
        }
        await self._execute(_PUT, params)
        if self.memo is not None:  # as stored: the JSON decoded again, the blobs as the bytes sent
            versions = checkpoint["channel_versions"]
            self.memo.stored(config, orjson.loads(_json(stored_checkpoint)), orjson.loads(_json(stored_metadata)),
                             {channel: versions.get(channel) for channel in blob_values},
                             [(b[2], b[3], (b[4], b[5])) for b in blobs])
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}}

    async def aput_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str,
                          task_path: str = "") -> None:
        """Store one task's writes against a checkpoint, in one statement."""
        configurable = config["configurable"]
        rows = self._dump_writes(configurable["thread_id"], configurable["checkpoint_ns"],
                                 configurable["checkpoint_id"], task_id, task_path, writes)
        special = all(channel in WRITES_IDX_MAP for channel, _ in writes)
        if special:  # one row per index, the last one written (one statement may not update a row twice)
            rows = list({row[5]: row for row in rows}.values())
        await self._execute(_UPSERT_WRITES if special else _INSERT_WRITES, {
            "thread_id": configurable["thread_id"], "ns": configurable["checkpoint_ns"],
            "checkpoint_id": configurable["checkpoint_id"], "task_id": task_id, "task_path": task_path,
            "idxs": [r[5] for r in rows], "channels": [r[6] for r in rows], "types": [r[7] for r in rows],
            "blobs": [r[8] for r in rows]})
        if self.memo is not None:  # the bytes stored, decoded afresh on each read from the memo
            self.memo.wrote(config, [(r[6], (r[7], r[8])) for r in rows], task_id, task_path)

    async def _execute(self, statement: str, params: dict[str, Any]) -> None:
        """One statement for this saver's user: alone when the connection already acts for them, else behind
        the identity in one pipeline (one round trip, one implicit transaction)."""
        if not isinstance(self.conn, AsyncConnectionPool):
            async with self._cursor(pipeline=True) as cur:
                await cur.execute(statement, params)
            return
        async with self.conn.connection() as conn:
            if getattr(conn, _ACTING_FOR, None) == self.user_id:
                await conn.execute(statement, params, binary=True)
                return
            setattr(conn, _ACTING_FOR, None)
            async with conn.pipeline():
                await conn.execute(_SET_USER, (self.user_id,))
                await conn.execute(statement, params, binary=True)
            setattr(conn, _ACTING_FOR, self.user_id)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Every checkpoint, blob and pending write of one thread under another id, in one transaction (the
        Postgres saver leaves this to subclasses)."""
        self._forget()
        params = {"src": str(source_thread_id), "dst": str(target_thread_id)}
        async with self._cursor(pipeline=False) as cur, cur.connection.transaction():
            for statement in _COPY:
                await cur.execute(statement, params)

    async def adelete_run(self, thread_id: str, run_id: str) -> None:
        """Rollback: forget what one run wrote, and any resume answer it left on the checkpoint it started
        from."""
        self._forget()
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

    async def adelete_thread(self, thread_id: str) -> None:
        self._forget()
        await super().adelete_thread(thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        self._forget()
        await super().aprune(thread_ids, strategy=strategy)

    def _forget(self) -> None:
        if self.memo is not None:
            self.memo.forget()

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


def _json(obj: Any) -> bytes | str:
    """JSON for the checkpoint rows: orjson, or the stdlib for what orjson refuses (integers past 64 bits)."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(obj)


async def _configure(conn: AsyncConnection[Any]) -> None:
    set_json_loads(orjson.loads, conn)  # checkpoint rows read back through orjson


def open_pool(url: str, *, max_size: int = 10) -> AsyncConnectionPool:
    """The psycopg pool the saver's README asks for: autocommit and dict rows. `prepare_threshold=0` prepares
    every statement on its first use, so each checkpoint statement is parsed and planned once per connection
    (`None` would turn server-side prepares off, which PgBouncer in transaction mode before 1.21 needs). Each
    checkout is checked, so a connection that did not survive a Postgres restart is replaced rather than handed
    to a run; each new connection reads JSONB through orjson."""
    return AsyncConnectionPool(
        driver_url(url, "libpq"),
        min_size=1,
        max_size=max_size,
        open=False,
        check=check_idle_connection,
        configure=_configure,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )


def make_checkpointer(pool: AsyncConnectionPool) -> PooledPostgresSaver:
    return PooledPostgresSaver(pool)  # type: ignore[arg-type]
