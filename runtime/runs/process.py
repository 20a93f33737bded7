"""The runs machinery of one server process: checkpointer, executor, worker and run service, wired once.

`api.app`'s lifespan calls `start_runtime` once the database and the bus are open, and `stop_runtime` before
they close; the bus belongs to the app (the webhook side uses it too). `RuntimeOptions` lets tests and
embedders serve other graphs or tune the worker (heartbeats, stale-run timeout); nothing here reads the
environment.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from langgraph.store.base import IndexConfig
from psycopg_pool import AsyncConnectionPool

from agent.checkpointer import PooledPostgresSaver, make_checkpointer, open_pool
from db.session import Database
from db.store import UserStore
from docusign_agent.settings import Settings
from runtime.bus import EventBus
from runtime.runs.cron_scheduler import CronScheduler
from runtime.runs.crons import CronService
from runtime.runs.executor import RunExecutor
from runtime.runs.graph_config import registry_for
from runtime.runs.graphs import GraphRegistry
from runtime.runs.service import RunService
from runtime.runs.threads import ThreadService
from runtime.runs.worker import RunWorker, WorkerOptions

log = logging.getLogger(__name__)


@dataclass
class RuntimeOptions:
    graphs: GraphRegistry | None = None
    worker: WorkerOptions = field(default_factory=WorkerOptions)
    run_timeout_seconds: float = 3600.0
    checkpoint_pool_size: int | None = None
    sse_heartbeat_seconds: float = 5.0
    cron_tick_seconds: float = 15.0  # at most this long before a cron another process made is noticed


@dataclass
class AgentRuntime:
    bus: EventBus
    graphs: GraphRegistry
    pool: AsyncConnectionPool
    checkpointer: PooledPostgresSaver  # acts for nobody: use checkpointer_for(user)
    executor: RunExecutor
    worker: RunWorker
    runs: RunService
    threads: ThreadService
    crons: CronService
    scheduler: CronScheduler

    def graph(self, graph_id: str):  # type: ignore[no-untyped-def]
        """The compiled graph, for what does not read checkpoints (schemas): it acts for nobody."""
        return self.graphs.get(graph_id, self.checkpointer)

    def graph_for(self, graph_id: str, user_id: uuid.UUID) -> Any:
        """The graph over `user_id`'s checkpoints."""
        return self.executor.graph_for(graph_id, user_id)

    def checkpointer_for(self, user_id: uuid.UUID) -> PooledPostgresSaver:
        return self.executor.checkpointer_for(user_id)

    def store_for(self, user_id: uuid.UUID) -> UserStore:
        return self.executor.store_for(user_id)


async def start_runtime(settings: Settings, database: Database, bus: EventBus, *,
                        options: RuntimeOptions | None = None, context: Any = None,
                        store_index: IndexConfig | None = None) -> AgentRuntime:
    """`context` is what runs of graphs that declare its type as their `context_schema` are given (the agent's
    `RunContext`, carrying this app's dependencies); `store_index` turns on the Store's vector search."""
    options = options or RuntimeOptions()
    graphs = options.graphs or registry_for(settings.langgraph_config)
    pool = open_pool(database.urls.app, max_size=options.checkpoint_pool_size or settings.db_pool_size)
    await pool.open(wait=True, timeout=30)
    checkpointer = make_checkpointer(pool)
    executor = RunExecutor(database, bus, graphs, checkpointer, pool, context=context,
                           run_timeout_seconds=options.run_timeout_seconds, store_index=store_index)
    worker_options = options.worker
    if not settings.redis_url and worker_options.announce_runs:
        # One process only: nobody else listens for announcements.
        worker_options = WorkerOptions(**{**worker_options.__dict__, "announce_runs": False})
    worker = RunWorker(database, bus, executor, worker_options)
    runs = RunService(database, bus, graphs, worker, executor, heartbeat_seconds=options.sse_heartbeat_seconds)
    threads = ThreadService(database, bus, graphs, executor, runs, heartbeat_seconds=options.sse_heartbeat_seconds)
    scheduler = CronScheduler(database, runs, tick_seconds=options.cron_tick_seconds)
    crons = CronService(database, graphs, on_change=scheduler.wake)
    runtime = AgentRuntime(bus=bus, graphs=graphs, pool=pool, checkpointer=checkpointer, executor=executor,
                           worker=worker, runs=runs, threads=threads, crons=crons, scheduler=scheduler)
    try:
        await worker.start()
    except BaseException:
        await pool.close()
        raise
    scheduler.start()
    log.info("agent runtime started", extra={"worker_id": str(worker.worker_id), "graphs": graphs.graph_ids,
                                             "bus": type(bus).__name__})
    return runtime


async def stop_runtime(runtime: AgentRuntime) -> None:
    """Stop firing crons, finish cancellations under way, settle the runs still executing here, then close the checkpoint pool."""
    try:
        await runtime.scheduler.stop()
        await runtime.runs.aclose()
        await runtime.worker.stop()
    finally:
        await runtime.pool.close()
