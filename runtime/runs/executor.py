"""Executes one claimed run: builds the graph's config, streams it, publishes events, settles the rows.

Every event is encoded once (orjson) and published to the run's bus stream `run:{run_id}`, from which any number
of SSE clients in any process read the same bytes; events are sent in batches of what arrives within a
millisecond (`BatchingPublisher`: one pipelined Redis round trip per batch rather than one per token). The stream
always starts with `metadata` (published when the run is created, so a client's first byte does not wait for
the claim) and always ends with `end` (`{"run_id", "status"}`), preceded by `error` when the run failed, so
readers never have to guess.

Cancellation arrives as `task.cancel()` from the worker, after it recorded the requested action in
`RunControl.action`; the executor then settles the run as `interrupted` (progress kept) or rolls it back
(its checkpoints and the run row deleted).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from langgraph.store.base import IndexConfig
from langgraph.types import Command, Send
from psycopg_pool import AsyncConnectionPool

from agent.checkpointer import PooledPostgresSaver
from agent.context import RunContext
from agent.recovery import recover_thread
from db.session import Database
from db.store import UserStore
from docusign_agent.logs import run_id_var, thread_id_var
from docusign_agent.metrics import RUN_SECONDS, RUNS
from runtime.bus import BatchingPublisher, EventBus
from runtime.runs import serde, store
from runtime.runs.graphs import GraphRegistry
from runtime.runs.stream_modes import StreamTranslator
from runtime.runs.streams import END, RUN_STREAM_TTL_SECONDS, end_event, run_stream

log = logging.getLogger(__name__)

CREATED_KEPT = 4096  # runs created here and not yet claimed here whose inputs are kept (older ones are read back)
CLIENT_CONFIG_KEYS = {"tags", "recursion_limit", "configurable", "metadata", "run_name", "max_concurrency"}


@dataclass(frozen=True)
class ClaimedRun:
    run_id: uuid.UUID
    thread_id: uuid.UUID
    user_id: uuid.UUID


@dataclass
class RunControl:
    """What the worker asked of a running run: None, "interrupt", "rollback" or "shutdown"."""

    action: str | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class RunExecutor:
    def __init__(self, database: Database, bus: EventBus, graphs: GraphRegistry, checkpointer: PooledPostgresSaver,
                 pool: AsyncConnectionPool, *, context: Any = None, run_timeout_seconds: float = 3600,
                 store_index: IndexConfig | None = None) -> None:
        self.db = database
        self.bus = bus
        self.graphs = graphs
        self.checkpointer = checkpointer
        self.pool = pool
        self.context = context
        self.run_timeout_seconds = run_timeout_seconds
        self.store_index = store_index
        # What this process's run creations wrote (the run's kwargs as JSON text, assistant id, metadata), so a
        # run claimed here starts without reading its row back; a run created elsewhere is read from its row.
        self._created: OrderedDict[uuid.UUID, tuple[str, str, dict[str, Any]]] = OrderedDict()

    def remember_inputs(self, run: Any, kwargs_json: str) -> None:
        self._created[run.run_id] = (kwargs_json, run.assistant_id, dict(run.metadata_ or {}))
        while len(self._created) > CREATED_KEPT:
            self._created.popitem(last=False)

    async def _inputs(self, claim: ClaimedRun) -> tuple[dict[str, Any], str, dict[str, Any]] | None:
        remembered = self._created.pop(claim.run_id, None)
        if remembered is not None:
            return serde.loads(remembered[0]), remembered[1], remembered[2]
        async with self.db.user_connection(claim.user_id) as conn:
            return await store.run_inputs(conn, claim.thread_id, claim.run_id)

    def checkpointer_for(self, user_id: uuid.UUID) -> PooledPostgresSaver:
        """The checkpointer acting for `user_id`: the checkpoint tables show it only that user's rows (RLS)."""
        return self.checkpointer.for_user(user_id)

    def graph_for(self, graph_id: str, user_id: uuid.UUID) -> Any:
        """The compiled graph over `user_id`'s checkpoints (a shallow copy: microseconds)."""
        return self.graphs.get(graph_id, self.checkpointer).copy(
            update={"checkpointer": self.checkpointer_for(user_id)})

    def store_for(self, user_id: uuid.UUID) -> UserStore:
        """The Store a run or request of `user_id` sees: only that user's items (RLS)."""
        return UserStore(self.db, user_id, index=self.store_index)

    async def execute(self, claim: ClaimedRun, control: RunControl) -> bool:
        """Run and settle one claimed run; True if its thread has more runs queued behind it."""
        run_id_var.set(str(claim.run_id))
        thread_id_var.set(str(claim.thread_id))
        inputs = await self._inputs(claim)
        if inputs is None:
            return False
        kwargs, assistant_id, metadata = inputs
        started = time.monotonic()
        status, error = "success", None
        graph = None
        config = self._config(claim, kwargs, assistant_id, metadata)
        # `metadata` was published when the run was created (RunService.create); the rest goes out in batches.
        publisher = BatchingPublisher(self.bus, run_stream(claim.run_id))
        # The run's own saver remembers what it stores, so settling reads the final state without Postgres
        # once the run has completed (agent/checkpoint_memo.py).
        saver = self.checkpointer_for(claim.user_id).remembering()
        try:
            # Each run sees its user's Store as `store` (a shallow copy of the compiled graph: microseconds).
            graph = self.graphs.get(kwargs["graph_id"], self.checkpointer).copy(
                update={"store": self.store_for(claim.user_id), "checkpointer": saver})
            async with asyncio.timeout(self.run_timeout_seconds):
                await self.recover(graph, claim, current=True)
                await self._stream(graph, publisher, kwargs, config)
                await publisher.flush()
        except asyncio.CancelledError:
            if control.action is None:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            status = "interrupted" if control.action == "interrupt" else control.action
            if control.action == "shutdown":
                status, error = "error", {"error": "ServerShutdown", "message": "the server stopped during the run"}
        except TimeoutError as exc:
            status, error = "timeout", serde.error_payload(exc)
            error["message"] = f"the run exceeded {self.run_timeout_seconds:.0f}s"
        except Exception as exc:
            log.exception("run failed")
            status, error = "error", serde.error_payload(exc)
        if status == "success":  # every checkpoint it started is stored: the last one is the thread's latest
            saver.trust_remembered()
        try:
            return await self._settle(claim, kwargs, graph, publisher, status, error)
        finally:
            RUNS.labels(status=status).inc()
            RUN_SECONDS.observe(time.monotonic() - started)

    # --- running --------------------------------------------------------------------------------------

    def _config(self, claim: ClaimedRun, kwargs: dict[str, Any], assistant_id: str,
                metadata: dict[str, Any]) -> dict[str, Any]:
        sent = dict(kwargs.get("config") or {})
        config = {k: v for k, v in sent.items() if k in CLIENT_CONFIG_KEYS}
        # Keys starting with "__" are LangGraph's internals (checkpointer, node hooks); a client never sets them.
        configurable = {k: v for k, v in (sent.get("configurable") or {}).items() if not str(k).startswith("__")}
        checkpoint = kwargs.get("checkpoint") or {}
        configurable.update({k: v for k, v in checkpoint.items() if v is not None and k != "thread_id"})
        if kwargs.get("checkpoint_id"):
            configurable["checkpoint_id"] = kwargs["checkpoint_id"]
        ids = {"thread_id": str(claim.thread_id), "run_id": str(claim.run_id), "assistant_id": assistant_id,
               "graph_id": kwargs["graph_id"]}
        # The identity tools act for comes from the authenticated principal, never from the request body.
        configurable.update(ids, user_id=str(claim.user_id))
        config["configurable"] = configurable
        config["metadata"] = {**(config.get("metadata") or {}), **metadata, **ids, "user_id": str(claim.user_id)}
        config["run_id"] = claim.run_id
        config.setdefault("recursion_limit", 50)
        return config

    async def _stream(self, graph: Any, publisher: BatchingPublisher, kwargs: dict[str, Any],
                      config: dict[str, Any]) -> None:
        translator = StreamTranslator(kwargs.get("stream_mode") or ["values"],
                                      subgraphs=bool(kwargs.get("stream_subgraphs")))
        options: dict[str, Any] = {"stream_mode": translator.graph_modes, "subgraphs": translator.subgraphs}
        for key in ("interrupt_before", "interrupt_after", "durability"):
            if kwargs.get(key):
                options[key] = kwargs[key]
        context = self._context_for(graph, kwargs.get("context"))
        if context is not None:
            options["context"] = context
        encoder = serde.RunEncoder()
        if translator.events:
            run_id = str(config["run_id"])
            async for raw in graph.astream_events(_graph_input(kwargs), config, version="v2", **options):
                for event, payload in translator.translate_event(raw, run_id):
                    publisher.publish(event, encoder.dumps(payload))
            return
        async for item in graph.astream(_graph_input(kwargs), config, **options):
            for event, payload in translator.translate(item):
                publisher.publish(event, encoder.dumps(payload))

    def _context_for(self, graph: Any, sent: dict[str, Any] | None) -> Any:
        """The runtime context of one run: this server's dependencies for a graph that declares their type as its
        `context_schema` (a client cannot send live objects), else what the client sent (`context`)."""
        schema = getattr(graph, "context_schema", None)
        if self.context is not None and isinstance(schema, type) and isinstance(self.context, schema):
            return self.context
        return sent or None

    # --- recovery -------------------------------------------------------------------------------------

    async def recover(self, graph: Any, claim: ClaimedRun, *, current: bool) -> int:
        """For the agent's graph: answer the tool calls a dead run left unanswered on the thread, and mark
        their audit rows (`agent/recovery.py`). `current`: `claim` is the run about to start (only unfinished
        audit rows make it look); otherwise `claim` is the run the sweep found dead."""
        context = self._context_for(graph, None)
        if not isinstance(context, RunContext) or context.dependencies is None:
            return 0  # another graph: its tools are not ours to account for
        return await recover_thread(graph, context.dependencies, claim.user_id, claim.thread_id,
                                    current_run=claim.run_id if current else None, read_state=not current)

    async def recover_lost(self, claim: ClaimedRun) -> int:
        """After the sweep settled `claim` as lost: recover its thread (see `recover`)."""
        async with self.db.user_session(claim.user_id) as session:
            run = await store.get_run(session, claim.thread_id, claim.run_id)
        if run is None:
            return 0
        graph = self.graph_for(run.kwargs["graph_id"], claim.user_id)  # the owner's checkpoints (RLS)
        return await self.recover(graph, claim, current=False)

    # --- settling -------------------------------------------------------------------------------------

    async def _settle(self, claim: ClaimedRun, kwargs: dict[str, Any], graph: Any, publisher: BatchingPublisher,
                      status: str, error: dict[str, Any] | None) -> bool:
        if status == "rollback":
            await self.checkpointer_for(claim.user_id).adelete_run(str(claim.thread_id), str(claim.run_id))
        snapshot = None
        if graph is not None:
            try:
                snapshot = await graph.aget_state({"configurable": {"thread_id": str(claim.thread_id)}})
            except Exception:
                log.exception("reading the final state failed")
        if error is not None:
            publisher.publish("error", serde.dumps(error))
        values, interrupts = snapshot_json(snapshot)
        error_json = None if error is None else serde.dumps(error).decode()
        async with self.db.user_connection(claim.user_id) as conn:
            # Lock order everywhere: thread row, then run rows (run creation and cancel do the same).
            others = await store.settle_run(conn, claim.thread_id, claim.run_id, status, error_json)
            has_next = bool(snapshot and (snapshot.next or snapshot.interrupts))
            thread_status = store.settled_thread_status(
                others_active=others, run_status="idle" if status == "rollback" else status, has_next=has_next)
            await store.write_thread_state(conn, claim.thread_id, status=thread_status, values=values,
                                           interrupts=interrupts, error=error_json)
        await publisher.close(END, end_event(claim.run_id, status), ttl_seconds=RUN_STREAM_TTL_SECONDS)
        if kwargs.get("temporary") and status != "rollback":
            await self.delete_thread_everywhere(claim.user_id, claim.thread_id)
        return others

    async def delete_thread_everywhere(self, user_id: uuid.UUID, thread_id: uuid.UUID) -> None:
        async with self.db.user_session(user_id) as session:
            await store.delete_thread(session, thread_id)
        await self.checkpointer_for(user_id).adelete_thread(str(thread_id))


def _graph_input(kwargs: dict[str, Any]) -> Any:
    command = kwargs.get("command")
    return command_of(command) if command else kwargs.get("input")


def command_of(command: dict[str, Any]) -> Command:
    """A command as clients send it (`resume`, `update`, `goto` with node names or `{"node", "input"}` sends)."""
    goto = command.get("goto")
    if goto is not None and not isinstance(goto, list):
        goto = [goto]
    targets = [g if isinstance(g, str) else Send(g["node"], g.get("input")) for g in goto] if goto else ()
    update = command.get("update")
    if isinstance(update, list):
        update = [tuple(pair) for pair in update]
    return Command(resume=command.get("resume"), update=update, goto=targets)


def snapshot_json(snapshot: Any) -> tuple[str | None, str | None]:
    """Thread-row copies of a state as JSON text, encoded once: its values, and its pending interrupts by task id."""
    if snapshot is None:
        return None, None
    values = snapshot.values if snapshot.values is not None else {}
    interrupts = {
        task.id: [{"id": i.id, "value": i.value} for i in task.interrupts]
        for task in snapshot.tasks if task.interrupts
    }
    return serde.dumps(values if isinstance(values, dict) else {"__root__": values}).decode(), \
        serde.dumps(interrupts).decode()


def snapshot_summary(snapshot: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """`snapshot_json` as plain JSON values (for the ORM's JSONB columns)."""
    values, interrupts = snapshot_json(snapshot)
    return (None if values is None else serde.loads(values)), (None if interrupts is None else serde.loads(interrupts))
