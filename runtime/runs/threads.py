"""Whole-thread operations beyond one run: copy, prune, create with supersteps, and the thread's own stream
(every run on it, joined as runs come).

Every operation first finds the thread in the caller's `user_session`: checkpoints carry no owner, so the
thread row is what proves the caller may touch them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from langgraph.errors import InvalidUpdateError
from langgraph.types import StateUpdate
from sqlalchemy import select

from agent.guard import check_update
from db.models import Run, Thread
from db.session import Database
from runtime.bus import EventBus
from runtime.runs import serde, store
from runtime.runs.errors import InvalidRequest
from runtime.runs.executor import RunExecutor, command_of, snapshot_summary
from runtime.runs.graphs import GraphRegistry
from runtime.runs.service import RunService
from runtime.runs.sse import HEARTBEAT_SECONDS, frame, with_heartbeats
from runtime.runs.streams import END, RUN_STREAM_TTL_SECONDS, run_stream, thread_stream
from runtime.runs.thread_state import state_json, thread_config

THREAD_STREAM_MODES = ("run_modes", "lifecycle", "state_update")
STATE_UPDATE = "state_update"


class ThreadService:
    def __init__(self, database: Database, bus: EventBus, graphs: GraphRegistry, executor: RunExecutor,
                 runs: RunService, *, heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        self.db = database
        self.bus = bus
        self.graphs = graphs
        self.executor = executor
        self.runs = runs
        self.heartbeat_seconds = heartbeat_seconds

    # --- copy and prune ---------------------------------------------------------------------------------

    async def copy(self, user_id: uuid.UUID, thread_id: uuid.UUID) -> Thread:
        """A new thread of the caller's with the same metadata, state and history; never busy."""
        async with self.db.user_session(user_id) as session:
            source = await store.require_thread(session, thread_id)
            copy = await store.insert_thread(session, user_id, None, dict(source.metadata_ or {}))
            assert copy is not None
            await store.set_thread_state(session, copy.thread_id, values=source.values or {},
                                         interrupts=source.interrupts or {},
                                         status="interrupted" if source.interrupts else "idle")
        await self.executor.checkpointer_for(user_id).acopy_thread(str(thread_id), str(copy.thread_id))
        async with self.db.user_session(user_id) as session:
            return await store.require_thread(session, copy.thread_id)

    async def prune(self, user_id: uuid.UUID, thread_ids: Sequence[uuid.UUID], strategy: str) -> int:
        """`delete`: the threads go (as DELETE /threads/{id}); `keep_latest`: only their latest checkpoint stays.
        Ids that are not the caller's threads are skipped and not counted."""
        async with self.db.user_session(user_id) as session:
            owned = list((await session.execute(
                select(Thread.thread_id).where(Thread.thread_id.in_(list(thread_ids))))).scalars())
        if strategy == "delete":
            for tid in owned:
                await self.runs.delete_thread(user_id, tid)
        elif owned:
            await self.executor.checkpointer_for(user_id).aprune([str(t) for t in owned], strategy="keep_latest")
        return len(owned)

    # --- supersteps -------------------------------------------------------------------------------------

    async def apply_supersteps(self, user_id: uuid.UUID, thread: Thread, supersteps: list[dict[str, Any]]) -> Thread:
        """Write a new thread's history as if each superstep's nodes had run (`graph.abulk_update_state`)."""
        graph_id = self.graphs.resolve(str((thread.metadata_ or {}).get("graph_id") or "agent"))
        if graph_id is None:
            raise InvalidRequest("metadata.graph_id names no graph served here", field="metadata.graph_id")
        graph = self.executor.graph_for(graph_id, user_id)
        steps = []
        previous: str | None = None  # what LangGraph takes a lone update without as_node to be
        for n, superstep in enumerate(supersteps):
            updates = superstep.get("updates")
            if not isinstance(updates, list) or not updates:
                raise InvalidRequest(f"supersteps[{n}].updates must be a non-empty list", field="supersteps")
            step = [StateUpdate(values=command_of(u["command"]) if u.get("command") else u.get("values"),
                                as_node=u.get("as_node"), task_id=u.get("task_id")) for u in updates]
            for m, update in enumerate(step):
                check_update(graph, update.values, update.as_node, field=f"supersteps[{n}].updates[{m}]",
                             inferred=previous)
            previous = step[-1].as_node or previous
            steps.append(step)
        config = thread_config(str(thread.thread_id))
        try:
            await graph.abulk_update_state(config, steps)
        except (InvalidUpdateError, ValueError, KeyError, TypeError) as exc:
            raise InvalidRequest(f"supersteps: {exc}", field="supersteps") from None
        snapshot = await graph.aget_state(config)
        values, interrupts = snapshot_summary(snapshot)
        async with self.db.user_session(user_id) as session:
            await store.merge_thread_metadata(session, thread.thread_id, {"graph_id": graph_id})
            await store.set_thread_state(session, thread.thread_id, values=values, interrupts=interrupts,
                                         status="interrupted" if snapshot.next else "idle")
            return await store.require_thread(session, thread.thread_id)

    async def state_updated(self, thread_id: uuid.UUID, state: Any) -> None:
        """Tell the thread's stream that its state was updated outside a run."""
        payload = {"thread_id": str(thread_id), "state": state_json(state)}
        await self.bus.publish(thread_stream(thread_id), STATE_UPDATE, serde.dumps(payload))
        await self.bus.expire(thread_stream(thread_id), RUN_STREAM_TTL_SECONDS)

    # --- the thread's stream ----------------------------------------------------------------------------

    async def check_streamable(self, user_id: uuid.UUID, thread_id: uuid.UUID) -> None:
        async with self.db.user_session(user_id) as session:
            await store.require_thread(session, thread_id)

    def stream(self, user_id: uuid.UUID, thread_id: uuid.UUID, *, last_id: str | None,
               modes: Sequence[str]) -> AsyncIterator[bytes]:
        """Every run of the thread as it comes (runs already going are replayed from their start, or from
        `last_id`), each run's end as `metadata {"status": "run_done"}`, and state updates; until the client
        leaves."""
        wanted = set(modes)
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        followed: set[uuid.UUID] = set()
        tasks: list[asyncio.Task[None]] = []

        def keep(event: str, data: bytes) -> bool:
            if event == STATE_UPDATE:
                return STATE_UPDATE in wanted
            if "run_modes" in wanted:
                return True
            return "lifecycle" in wanted and event == "metadata"

        async def pump(run_id: uuid.UUID, start: str) -> None:
            async for message in self.bus.subscribe(run_stream(run_id), last_id=start):
                if message.event == END:
                    done = orjson.dumps({"status": "run_done", "run_id": str(run_id)})
                    if keep("metadata", done):
                        await queue.put(frame("metadata", done, message.id))
                    return
                if keep(message.event, message.data):
                    await queue.put(frame(message.event, message.data, message.id))

        def follow(run_id: uuid.UUID, start: str) -> None:
            if run_id not in followed:
                followed.add(run_id)
                tasks.append(asyncio.create_task(pump(run_id, start), name=f"thread-stream:{run_id}"))

        async def announcements(messages: AsyncIterator[Any]) -> None:
            async for message in messages:
                if message.event == "run":
                    follow(uuid.UUID(orjson.loads(message.data)["run_id"]), "0")
                elif keep(message.event, message.data):
                    await queue.put(frame(message.event, message.data, message.id))

        async def events() -> AsyncIterator[bytes]:
            try:
                # Listen for new runs before looking for current ones, so none falls between the two.
                async with self.bus.subscription(thread_stream(thread_id), last_id=last_id) as messages:
                    for run_id in await self._runs_to_join(user_id, thread_id, replay=last_id is not None):
                        follow(run_id, last_id or "0")
                    tasks.append(asyncio.create_task(announcements(messages), name=f"thread-stream:{thread_id}"))
                    while True:
                        yield await queue.get()
            finally:
                for task in tasks:
                    task.cancel()
                if tasks:
                    await asyncio.wait(tasks, timeout=2)

        return with_heartbeats(events(), heartbeat=self.heartbeat_seconds)

    async def _runs_to_join(self, user_id: uuid.UUID, thread_id: uuid.UUID, *, replay: bool) -> list[uuid.UUID]:
        """Runs pending or running; when replaying, also those whose events are still kept."""
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=RUN_STREAM_TTL_SECONDS)
        async with self.db.user_session(user_id) as session:
            condition = Run.status.in_(store.ACTIVE)
            if replay:
                condition = condition | (Run.updated_at >= since)
            rows = await session.execute(select(Run.run_id).where(Run.thread_id == thread_id, condition)
                                         .order_by(Run.created_at))
            return list(rows.scalars())
