"""The agent runtime of one server process: bus, checkpointer, executor, worker and run service, wired once.

`api.app`'s lifespan calls `start_runtime` after the database is open and `stop_runtime` before it closes.
Everything is on `app.state.runtime` (and the bus also on `app.state.bus`, for the webhook side API).

Tests and embedders may set `app.state.runtime_options` before start-up to serve other graphs or tune the
worker (heartbeats, stale-run timeout); nothing here reads the environment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from langgraph.checkpoint.base import BaseCheckpointSaver
from psycopg_pool import AsyncConnectionPool

from runtime.bus import EventBus, make_bus
from runtime.runs.executor import RunExecutor
from runtime.runs.graphs import GraphRegistry
from runtime.runs.service import RunService
from runtime.runs.worker import RunWorker, WorkerOptions
from db.session import Database
from docusign_agent.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RuntimeOptions:
    graphs: GraphRegistry | None = None
    worker: WorkerOptions = field(default_factory=WorkerOptions)
    run_timeout_seconds: float = 3600.0
    checkpoint_pool_size: int | None = None
    sse_heartbeat_seconds: float = 5.0


@dataclass
class AgentRuntime:
    bus: EventBus
    graphs: GraphRegistry
    pool: AsyncConnectionPool
    checkpointer: BaseCheckpointSaver
    executor: RunExecutor
    worker: RunWorker
    runs: RunService

    def graph(self, graph_id: str):  # type: ignore[no-untyped-def]
        return self.graphs.get(graph_id, self.checkpointer)


def _checkpointer(pool: AsyncConnectionPool) -> BaseCheckpointSaver:
    from agent.checkpointer import make_checkpointer

    return make_checkpointer(pool)


def _open_pool(url: str, size: int) -> AsyncConnectionPool:
    from agent.checkpointer import open_pool

    return open_pool(url, max_size=size)


async def start_runtime(app: FastAPI, settings: Settings, database: Database) -> AgentRuntime:
    options: RuntimeOptions = getattr(app.state, "runtime_options", None) or RuntimeOptions()
    bus = getattr(app.state, "bus", None) or make_bus(settings)
    app.state.bus = bus
    graphs = options.graphs or GraphRegistry()
    pool = _open_pool(database.urls.app, options.checkpoint_pool_size or settings.db_pool_size)
    await pool.open(wait=True, timeout=30)
    checkpointer = _checkpointer(pool)
    executor = RunExecutor(database, bus, graphs, checkpointer, pool, run_timeout_seconds=options.run_timeout_seconds)
    worker_options = options.worker
    if not settings.redis_url and worker_options.announce_runs:
        # One process only: nobody else listens for announcements.
        worker_options = WorkerOptions(**{**worker_options.__dict__, "announce_runs": False})
    worker = RunWorker(database, bus, executor, worker_options)
    runtime = AgentRuntime(bus=bus, graphs=graphs, pool=pool, checkpointer=checkpointer, executor=executor,
                           worker=worker, runs=RunService(database, bus, graphs, worker, executor,
                                           heartbeat_seconds=options.sse_heartbeat_seconds))
    _install_agent_services(app, settings, database)
    await worker.start()
    app.state.runtime = runtime
    log.info("agent runtime started", extra={"worker_id": str(worker.worker_id), "graphs": graphs.graph_ids,
                                             "bus": type(bus).__name__})
    return runtime


def _install_agent_services(app: FastAPI, settings: Settings, database: Database) -> None:
    """The graph's nodes and tools find the database through `agent.services`: give them this server's."""
    from agent import services as agent_services

    app.state.previous_agent_services = agent_services.installed()
    agent_services.install(agent_services.Services(settings=settings, database=database))


async def stop_runtime(app: FastAPI) -> None:
    runtime: AgentRuntime | None = getattr(app.state, "runtime", None)
    if runtime is None:
        return
    try:
        await runtime.worker.stop()
    finally:
        await runtime.pool.close()
        await runtime.bus.aclose()
        from agent import services as agent_services

        agent_services.install(getattr(app.state, "previous_agent_services", None))


def get_runtime(request: Request) -> AgentRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]
