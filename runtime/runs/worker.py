"""The per-process run worker: claims pending runs, executes them as tasks, heartbeats, cancels, sweeps.

No polling for work: the scheduler sleeps on an event that is set when a run is created here, when another
process announces one on the bus (`runs:wakeup`), when a local run finishes (the next queued run of that thread
may start) and when an `after_seconds` delay elapses. Claims go through `dsa_claim_runs`, which is exclusive
across processes, so each run is executed by exactly one process.

Liveness: every `heartbeat_seconds` the worker stamps its running runs (`dsa_heartbeat_runs`) and sweeps runs
whose worker stopped stamping for `stale_after_seconds` (`dsa_sweep_runs`): those are marked `error`, their
streams get `error` + `end`, and their threads become usable again. The same tick is the fallback path for a
cancellation whose bus message was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass

import orjson
from sqlalchemy import text

from db.session import Database
from docusign_agent.metrics import RUNS_ACTIVE
from runtime.bus import EventBus
from runtime.runs.executor import ClaimedRun, RunControl, RunExecutor
from runtime.runs.streams import publish_end, run_stream

log = logging.getLogger(__name__)

WAKEUP_STREAM = "runs:wakeup"
CONTROL_STREAM = "runs:control"


@dataclass(frozen=True)
class WorkerOptions:
    max_concurrency: int = 64
    heartbeat_seconds: float = 5.0
    stale_after_seconds: int = 30
    announce_runs: bool = True  # publish new runs on the bus so idle processes pick them up


class RunWorker:
    def __init__(self, database: Database, bus: EventBus, executor: RunExecutor,
                 options: WorkerOptions | None = None) -> None:
        self.db = database
        self.bus = bus
        self.executor = executor
        self.options = options or WorkerOptions()
        self.worker_id = uuid.uuid4()
        self._wake = asyncio.Event()
        self._running: dict[uuid.UUID, RunControl] = {}
        self._background: list[asyncio.Task[None]] = []
        self._stopping = False
        self._full = False  # the last claim found no room: runs may be waiting for this worker
        self._announcement = orjson.dumps({"worker_id": str(self.worker_id)})

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.sweep()  # runs left `running` by a process that died before we started
        for name, coro in (("scheduler", self._schedule()), ("heartbeat", self._heartbeat()),
                           ("control", self._listen_control()), ("wakeups", self._listen_wakeups())):
            self._background.append(asyncio.create_task(coro, name=f"run-worker-{name}"))
        self._wake.set()

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop claiming; runs still executing are settled as errors (a restart must not leave them running)."""
        self._stopping = True
        for task in self._background:
            task.cancel()
        if self._background:
            await asyncio.wait(self._background, timeout=grace_seconds)
        for control in list(self._running.values()):
            self._cancel_local(control, "shutdown")
        pending = [c.task for c in self._running.values() if c.task is not None]
        if pending:
            await asyncio.wait(pending, timeout=grace_seconds)

    @property
    def active_runs(self) -> int:
        return len(self._running)

    def wake(self) -> None:
        self._wake.set()

    # --- announcing ----------------------------------------------------------------------------------

    async def run_created(self, after_seconds: float = 0) -> None:
        """A run was created in this process: claim it here, or, when this worker is full, let another process."""
        if after_seconds > 0:
            asyncio.get_running_loop().call_later(after_seconds, self._wake.set)
        self._wake.set()
        if self.options.announce_runs and (self._full or after_seconds > 0):
            await self.bus.publish(WAKEUP_STREAM, "run", self._announcement)

    async def request_cancel(self, run_id: uuid.UUID, action: str) -> None:
        """Reach whichever process executes `run_id` (the DB flag was already set by the caller)."""
        payload = orjson.dumps({"run_id": str(run_id), "action": action})
        await self.bus.publish(CONTROL_STREAM, "cancel", payload)

    # --- loops -----------------------------------------------------------------------------------------

    async def _schedule(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            try:
                while True:
                    room = self.options.max_concurrency - len(self._running)
                    # Full: a run finishing here claims again, and new runs are announced to other processes.
                    self._full = room <= 0
                    if self._full:
                        break
                    claims = await self._claim(room)
                    for claim in claims:
                        self._spawn(claim)
                    if len(claims) < room:
                        break  # nothing more is due: no second, empty claim
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("claiming runs failed; retrying on the next wake-up")
                await asyncio.sleep(1)
                self._wake.set()

    async def _claim(self, limit: int) -> list[ClaimedRun]:
        async with self.db.run_worker_connection() as conn:  # one statement, its own transaction
            rows = await conn.fetch("SELECT * FROM dsa_claim_runs($1, $2)", self.worker_id, limit)
        return [ClaimedRun(run_id=r[0], thread_id=r[1], user_id=r[2]) for r in rows]

    def _spawn(self, claim: ClaimedRun) -> None:
        control = RunControl()
        self._running[claim.run_id] = control
        control.task = asyncio.create_task(self._execute(claim, control), name=f"run:{claim.run_id}")

    async def _execute(self, claim: ClaimedRun, control: RunControl) -> None:
        RUNS_ACTIVE.inc()
        queued = True  # unless the settled run says otherwise, the thread may have a run waiting for it
        try:
            queued = await self.executor.execute(claim, control)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("run %s could not be settled", claim.run_id)
        finally:
            RUNS_ACTIVE.dec()
            self._running.pop(claim.run_id, None)
            # Claim again only when something may be waiting: the thread's next queued run (here, or in an idle
            # process), or runs that found this worker full.
            if queued or self._full:
                self._wake.set()
            if queued and self.options.announce_runs and not self._stopping:
                with contextlib.suppress(Exception):
                    await self.bus.publish(WAKEUP_STREAM, "run", self._announcement)

    def _cancel_local(self, control: RunControl, action: str) -> None:
        if control.action is None and control.task is not None and not control.task.done():
            control.action = action
            control.task.cancel()

    async def _heartbeat(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.options.heartbeat_seconds)
            try:
                async with self.db.run_worker_session() as session:
                    rows = (await session.execute(text("SELECT * FROM dsa_heartbeat_runs(:w)"),
                                                  {"w": self.worker_id})).all()
                for run_id, action in rows:
                    if action and (control := self._running.get(run_id)) is not None:
                        self._cancel_local(control, action)
                await self.sweep()
                self._wake.set()  # due `after_seconds` runs whose creator died are picked up here
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("heartbeat failed")

    async def sweep(self) -> int:
        """Runs whose worker died are settled as errors; expired Store items are reclaimed on the way."""
        async with self.db.run_worker_session() as session:
            rows = (await session.execute(text("SELECT * FROM dsa_sweep_runs(:s)"),
                                          {"s": self.options.stale_after_seconds})).all()
            await session.execute(text("SELECT dsa_sweep_store()"))
        for run_id, thread_id, user_id in rows:
            log.warning("run %s lost its worker; marked as error", run_id)
            error = {"error": "WorkerLost", "message": "the server process executing this run stopped"}
            await self.bus.publish(run_stream(run_id), "error", orjson.dumps(error))
            await publish_end(self.bus, run_id, "error")
            try:  # the tool calls it left unanswered, and their audit rows
                await self.executor.recover_lost(ClaimedRun(run_id, thread_id, user_id))
            except Exception:
                log.exception("recovering the thread of lost run %s failed; its next run retries", run_id)
        if rows:
            self._wake.set()
        return len(rows)

    async def _listen_control(self) -> None:
        while not self._stopping:
            try:
                async for message in self.bus.subscribe(CONTROL_STREAM):
                    body = orjson.loads(message.data)
                    control = self._running.get(uuid.UUID(body["run_id"]))
                    if control is not None:
                        self._cancel_local(control, body["action"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("control listener failed; resubscribing")
                await asyncio.sleep(1)

    async def _listen_wakeups(self) -> None:
        while not self._stopping:
            try:
                async for message in self.bus.subscribe(WAKEUP_STREAM):
                    if message.data != self._announcement:  # not our own
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("wake-up listener failed; resubscribing")
                await asyncio.sleep(1)
