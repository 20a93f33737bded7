"""Run operations as the HTTP layer needs them: create (with multitask strategies), cancel, stream, join.

A request never executes a graph: it writes a pending run (one transaction that also locks the thread row, so
concurrent requests on one thread decide their multitask strategy one at a time), announces it, and then only
reads the run's bus stream. That is what lets a client disconnect without killing its run, and lets any process
serve any run's stream.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson

from agent.guard import check_command
from db.models import Run
from db.session import Database, driver_connection, json_text
from docusign_agent.metrics import RUNS_CREATED, STREAM_CLIENTS
from runtime.bus import EventBus
from runtime.runs import assistants, serde, store
from runtime.runs.errors import Conflict, InvalidRequest, NotFound, RunsError, thread_id_unavailable
from runtime.runs.executor import RunExecutor
from runtime.runs.graphs import GraphRegistry, GraphUnavailable
from runtime.runs.schemas import RunCreate
from runtime.runs.sse import HEARTBEAT_SECONDS, frame, with_heartbeats
from runtime.runs.streams import (END, RUN_STREAM_TTL_SECONDS, end_event, publish_end, run_metadata, run_stream,
                                  thread_stream)
from runtime.runs.worker import RunWorker

ALWAYS_SENT = {"metadata", "error", END}
PrepareInput = Callable[[Any, uuid.UUID, Any], Awaitable[Any]]


class RunService:
    def __init__(self, database: Database, bus: EventBus, graphs: GraphRegistry, worker: RunWorker,
                 executor: RunExecutor, *, heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        self.heartbeat_seconds = heartbeat_seconds
        self.db = database
        self.bus = bus
        self.graphs = graphs
        self.worker = worker
        self.executor = executor
        # Cancellations started when a client went away. Held here so they are not garbage-collected mid-way
        # (the event loop keeps only weak references to tasks) and so shutdown can let them finish.
        self._cancelling: set[asyncio.Task[None]] = set()

    # --- create ----------------------------------------------------------------------------------------

    async def create(self, user_id: uuid.UUID, thread_id: uuid.UUID | None, body: RunCreate, *,
                     prepare_input: PrepareInput | None = None, run_id: uuid.UUID | None = None) -> Run:
        """`prepare_input(session, user_id, input)` may rewrite the input inside the run's own transaction (the
        HTTP layer stores files found in messages there), so a refused run changes nothing. `run_id` is given
        by the cron scheduler (one id per cron and time, so a time fired twice is refused by the key)."""
        stateless = thread_id is None
        resume = body.command is not None and body.command.resume is not None
        if stateless and resume:
            raise InvalidRequest("command.resume needs a thread: resume on "
                           "/threads/{thread_id}/runs with the interrupted thread", field="command.resume")
        strategy = body.multitask_strategy or "enqueue"
        to_end: list[uuid.UUID] = []
        to_cancel: list[uuid.UUID] = []
        async with self.db.user_session(user_id) as session:
            assistant = await assistants.resolve(session, self.graphs, body.assistant_id)
            self._check_command(assistant.graph_id, body)
            conn = await driver_connection(session)  # the run's own statements skip the ORM (see store)
            created = False
            thread_status: str | None = "idle"  # a thread created here
            if stateless:
                thread = await store.insert_thread(session, user_id, None, {})
                assert thread is not None
                new_thread_id = thread.thread_id
                created = True
            elif (thread_status := await store.lock_thread(conn, thread_id)) is not None:  # type: ignore[arg-type]
                new_thread_id = thread_id  # type: ignore[assignment]
            else:
                if body.if_not_exists != "create":
                    raise NotFound(f"thread {thread_id} not found", field="thread_id")
                thread = await store.insert_thread(session, user_id, thread_id, {})
                if thread is None:
                    raise thread_id_unavailable(thread_id)
                new_thread_id = thread.thread_id
                created = True
            if resume and (created or await self._never_ran(user_id, new_thread_id)):
                raise InvalidRequest("command.resume: the thread has no interrupted run to resume",
                               field="command.resume")
            active = [] if created else await store.lock_active_runs(conn, new_thread_id)
            if resume and not active and thread_status != "interrupted":
                # Resuming a thread that waits for nothing used to be a run that did nothing (and said 200).
                raise InvalidRequest(f"command.resume: the thread is not waiting for an answer (it is "
                                     f"{thread_status}); send input to start a new run instead",
                                     field="command.resume")
            if active and strategy == "reject":
                raise Conflict("the thread is already running a run; wait for it, or send "
                               "multitask_strategy enqueue, interrupt or rollback", code="thread_busy",
                               field="multitask_strategy")
            if active and strategy in ("interrupt", "rollback"):
                for other_id, other_status in active:
                    if other_status == "pending":
                        to_end.append(other_id)
                        await store.end_pending_run(conn, other_id, rollback=strategy == "rollback")
                    else:
                        await store.request_cancel(conn, other_id, strategy)
                        to_cancel.append(other_id)
            if prepare_input is not None and body.command is None:
                body.input = await prepare_input(session, user_id, body.input)
            kwargs = json_text(self._kwargs(body, assistant, temporary=stateless and body.on_completion != "keep"))
            run = await store.insert_pending_run(
                conn, run_id=run_id or uuid.uuid4(), thread_id=new_thread_id, user_id=user_id,
                assistant_id=body.assistant_id, metadata=json_text(body.metadata or {}), kwargs=kwargs,
                multitask_strategy=strategy, after_seconds=body.after_seconds or 0,
                thread_metadata=json_text({"graph_id": assistant.graph_id, "assistant_id": body.assistant_id}))
        self.executor.remember_inputs(run, kwargs)
        RUNS_CREATED.labels(multitask_strategy=strategy).inc()
        for other_id in to_end:
            await publish_end(self.bus, other_id, "interrupted")
        for other_id in to_cancel:
            await self.worker.request_cancel(other_id, strategy)
        # The stream's first event now, so a client's first byte does not wait for a worker to claim the run.
        await self.bus.publish_many(run_stream(run.run_id), [("metadata", run_metadata(run.run_id))],
                                    ttl_seconds=RUN_STREAM_TTL_SECONDS)
        await self.bus.publish_many(thread_stream(run.thread_id), [("run", orjson.dumps({"run_id": str(run.run_id)}))],
                                    ttl_seconds=RUN_STREAM_TTL_SECONDS)
        await self.worker.run_created(body.after_seconds or 0)
        return run

    def _check_command(self, graph_id: str, body: RunCreate) -> None:
        """A command may not skip the approval gate or write what the agent keeps (`agent.guard`): 422."""
        if body.command is None:
            return
        try:
            graph = self.graphs.get(graph_id, self.executor.checkpointer)
        except GraphUnavailable:
            return  # the run fails with the reason when it executes
        check_command(graph, body.command.model_dump(exclude_none=True))

    async def _never_ran(self, user_id: uuid.UUID, thread_id: uuid.UUID) -> bool:
        config = {"configurable": {"thread_id": str(thread_id), "checkpoint_ns": ""}}
        return await self.executor.checkpointer_for(user_id).aget_tuple(config) is None  # type: ignore[arg-type]

    @staticmethod
    def _kwargs(body: RunCreate, assistant: assistants.ResolvedAssistant, *, temporary: bool) -> dict[str, Any]:
        modes = list(dict.fromkeys(body.stream_mode))
        if temporary and "values" not in modes:
            modes.append("values")  # a stateless run's result must survive its thread's deletion
        durability = body.durability or (None if body.checkpoint_during is None else
                                         ("async" if body.checkpoint_during else "exit"))
        config = body.config.model_dump(exclude_none=True) if body.config else {}
        return {
            "graph_id": assistant.graph_id,
            # agent-chat-ui sends both input and command when resuming; the command wins.
            "input": None if body.command is not None else body.input,
            "command": body.command.model_dump(exclude_none=True) if body.command is not None else None,
            "config": assistants.merge_config(assistant.config, config),
            "context": {**assistant.context, **(body.context or {})} or None,
            "stream_mode": modes,
            "stream_subgraphs": body.stream_subgraphs,
            "stream_resumable": body.stream_resumable,
            "checkpoint": body.checkpoint.model_dump(exclude_none=True) if body.checkpoint else None,
            "checkpoint_id": body.checkpoint_id,
            "interrupt_before": body.interrupt_before,
            "interrupt_after": body.interrupt_after,
            "durability": durability,
            "feedback_keys": body.feedback_keys,
            "on_disconnect": body.on_disconnect or "continue",
            "temporary": temporary,
        }

    # --- deleting threads --------------------------------------------------------------------------------

    async def delete_thread(self, user_id: uuid.UUID, thread_id: uuid.UUID) -> None:
        """The thread, its runs and its checkpoints; a run still executing is told to stop."""
        async with self.db.user_session(user_id) as session:
            await store.require_thread(session, thread_id, lock=True)
            running = [r.run_id for r in await store.active_runs(session, thread_id) if r.status == "running"]
            await store.delete_thread(session, thread_id)
        for run_id in running:
            await self.worker.request_cancel(run_id, "interrupt")
        await self.executor.checkpointer_for(user_id).adelete_thread(str(thread_id))

    async def delete_threads_where(self, user_id: uuid.UUID, metadata: dict[str, Any]) -> int:
        async with self.db.user_session(user_id) as session:
            ids = await store.thread_ids_where(session, metadata)
        for thread_id in ids:
            try:
                await self.delete_thread(user_id, thread_id)
            except NotFound:
                pass  # deleted meanwhile
        return len(ids)

    async def check_runs(self, user_id: uuid.UUID, bodies: list[RunCreate]) -> None:
        """Refuse the first run of a batch that could not be created (an assistant the user cannot run, a
        command that is not allowed), before the batch creates anything."""
        async with self.db.user_session(user_id) as session:
            for body in bodies:
                assistant = await assistants.resolve(session, self.graphs, body.assistant_id)
                self._check_command(assistant.graph_id, body)

    # --- cancel ----------------------------------------------------------------------------------------

    async def cancel_many(self, user_id: uuid.UUID, action: str, *, thread_id: uuid.UUID | None = None,
                          run_ids: list[uuid.UUID] | None = None, status: str | None = None) -> int:
        """Cancel the listed runs of a thread (each must be the caller's and still active), or every active run
        of the caller in `status` (`pending`, `running` or `all`)."""
        if run_ids is not None and thread_id is not None:
            async with self.db.user_session(user_id) as session:
                await store.require_thread(session, thread_id)
                for run_id in run_ids:
                    run = await store.require_run(session, thread_id, run_id)
                    if run.status not in store.ACTIVE:
                        raise Conflict(f"run {run_id} already finished with status {run.status}",
                                       code="run_finished", field="run_ids")
            targets = [(thread_id, run_id) for run_id in run_ids]
        else:
            statuses = store.ACTIVE if status == "all" else (status,)
            async with self.db.user_session(user_id) as session:
                targets = await store.runs_in(session, statuses)
        for tid, rid in targets:
            try:
                await self.cancel(user_id, tid, rid, action)
            except Conflict:
                pass  # finished meanwhile
        return len(targets)


    async def cancel(self, user_id: uuid.UUID, thread_id: uuid.UUID, run_id: uuid.UUID, action: str) -> None:
        async with self.db.user_session(user_id) as session:
            await store.require_thread(session, thread_id, lock=True)
            run = await store.require_run(session, thread_id, run_id, lock=True)
            if run.status not in store.ACTIVE:
                raise Conflict(f"run {run_id} already finished with status {run.status}", code="run_finished",
                               field="run_id")
            pending = run.status == "pending"
            if pending:
                if action == "rollback":
                    await store.delete_run(session, run_id)
                else:
                    await store.finish_run(session, run_id, "interrupted", None)
                others = await store.has_other_active_runs(session, thread_id, run_id)
                if not others:
                    await store.set_thread_state(session, thread_id, status="idle")
            else:
                run.cancel_requested = action
        if pending:
            await publish_end(self.bus, run_id, "interrupted")
            self.worker.wake()
        else:
            await self.worker.request_cancel(run_id, action)

    # --- reading ---------------------------------------------------------------------------------------

    async def run_status(self, user_id: uuid.UUID, thread_id: uuid.UUID, run_id: uuid.UUID) -> str | None:
        async with self.db.user_session(user_id) as session:
            run = await store.get_run(session, thread_id, run_id)
            return run.status if run is not None else None

    def stream(self, user_id: uuid.UUID, thread_id: uuid.UUID, run_id: uuid.UUID, *, last_id: str | None,
               modes: list[str] | None, cancel_on_disconnect: bool) -> AsyncIterator[bytes]:
        """SSE bytes of a run: replay after `last_id` (everything if None), then live, until `end`."""
        wanted = _wanted_events(modes)
        quiet_checks = 0

        async def events() -> AsyncIterator[bytes]:
            ended = False
            STREAM_CLIENTS.inc()
            try:
                async for message in self.bus.subscribe(run_stream(run_id), last_id=last_id or "0"):
                    if wanted is None or message.event in ALWAYS_SENT or message.event.split("|")[0] in wanted:
                        yield frame(message.event, message.data, message.id)
                    if message.event == END:
                        ended = True
                        return
            finally:
                STREAM_CLIENTS.dec()
                if not ended and cancel_on_disconnect:
                    self._cancel_in_background(user_id, thread_id, run_id)

        async def closed_if_finished() -> bytes | None:
            # Every sixth quiet period, make sure the run is not over with its `end` lost (e.g. expired).
            nonlocal quiet_checks
            quiet_checks += 1
            if quiet_checks % 6:
                return None
            status = await self.run_status(user_id, thread_id, run_id)
            if status in store.ACTIVE:
                return None
            return frame(END, end_event(run_id, status or "unknown"))

        return with_heartbeats(events(), heartbeat=self.heartbeat_seconds, on_idle=closed_if_finished)

    def _cancel_in_background(self, user_id: uuid.UUID, thread_id: uuid.UUID, run_id: uuid.UUID) -> None:
        """The client of a `cancel_on_disconnect` stream left: cancel its run, without holding up the response."""
        task = asyncio.get_running_loop().create_task(self._cancel_quietly(user_id, thread_id, run_id),
                                                      name=f"cancel-on-disconnect:{run_id}")
        self._cancelling.add(task)
        task.add_done_callback(self._cancelling.discard)

    async def aclose(self, timeout: float = 5.0) -> None:
        """Let cancellations already under way finish (bounded), before the database closes."""
        if self._cancelling:
            await asyncio.wait(set(self._cancelling), timeout=timeout)

    async def _cancel_quietly(self, user_id: uuid.UUID, thread_id: uuid.UUID, run_id: uuid.UUID) -> None:
        try:
            await self.cancel(user_id, thread_id, run_id, "interrupt")
        except RunsError:
            pass  # already finished

    def result(self, user_id: uuid.UUID, thread_id: uuid.UUID, run_id: uuid.UUID, *,
               cancel_on_disconnect: bool = False) -> AsyncIterator[bytes]:
        """The run's final output as JSON (what `/wait` and `/join` return), with whitespace keep-alives.

        Like langgraph-api: the last `values` (with `__interrupt__` when the run stopped for a person), or
        `{"__error__": {...}}` when it failed; once the run's events are gone, the thread's saved values.
        """
        outcome = _Outcome()

        async def consume() -> bytes:
            ended = False
            try:
                async for event, data in self.events(user_id, thread_id, run_id):
                    outcome.absorb(event, data)
                ended = True
            finally:
                if not ended and cancel_on_disconnect:
                    self._cancel_in_background(user_id, thread_id, run_id)
            return outcome.body() or await self.saved_result(user_id, thread_id, run_id)

        async def body() -> AsyncIterator[bytes]:
            task = asyncio.create_task(consume())
            try:
                while True:
                    done, _ = await asyncio.wait({task}, timeout=self.heartbeat_seconds)
                    if done:
                        yield task.result()
                        return
                    yield b"\n"  # leading whitespace is ignored by JSON parsers; keeps proxies from timing out
            finally:
                if not task.done():
                    task.cancel()

        return body()

    async def events(self, user_id: uuid.UUID, thread_id: uuid.UUID,
                     run_id: uuid.UUID) -> AsyncIterator[tuple[str, bytes]]:
        """A run's events as its executor published them (`event`, JSON bytes), from the first to `end`; none
        when the run has already finished (its saved result is then on the thread)."""
        if await self.run_status(user_id, thread_id, run_id) not in store.ACTIVE:
            return
        async for message in self.bus.subscribe(run_stream(run_id), last_id="0"):
            yield message.event, message.data
            if message.event == END:
                return

    async def saved_result(self, user_id: uuid.UUID, thread_id: uuid.UUID, run_id: uuid.UUID) -> bytes:
        """A finished run's output as `result` gives it, read from the run and thread rows."""
        async with self.db.user_session(user_id) as session:
            run = await store.get_run(session, thread_id, run_id)
            thread = await store.get_thread(session, thread_id)
        if run is not None and run.status in ("error", "timeout") and run.error:
            return serde.dumps({"__error__": run.error})
        if thread is None:
            return b"{}"
        values = dict(thread.values or {})
        interrupts = [i for items in (thread.interrupts or {}).values() for i in items]
        if interrupts:
            values["__interrupt__"] = interrupts
        return serde.dumps(values)


class _Outcome:
    def __init__(self) -> None:
        self.latest: bytes | None = None
        self.error: bytes | None = None
        self.interrupts: list[Any] = []

    def absorb(self, event: str, data: bytes) -> None:
        mode = event.split("|")[0]
        if mode == "error":
            self.error = data
        elif mode == "values":
            if b"__interrupt__" in data:
                self.interrupts.extend(orjson.loads(data).get("__interrupt__") or [])
            self.latest = data

    def body(self) -> bytes | None:
        if self.error is not None:
            return b'{"__error__":' + self.error + b"}"
        if self.latest is not None and self.interrupts and b"__interrupt__" not in self.latest:
            values = orjson.loads(self.latest)
            values["__interrupt__"] = self.interrupts
            return orjson.dumps(values)
        return self.latest


def _wanted_events(modes: list[str] | None) -> set[str] | None:
    if not modes:
        return None
    wanted = set(modes)
    if "messages-tuple" in wanted:
        wanted.add("messages")
    if "messages" in wanted:
        wanted |= {"messages/partial", "messages/complete", "messages/metadata"}
    return wanted
