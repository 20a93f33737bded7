"""The cron scheduler of one server process: fires due crons as runs, which the run workers then execute.

Exactly one run per time of a schedule, however many processes tick (migration 0010 has the SQL):
1. `claim_due` takes due crons `FOR UPDATE SKIP LOCKED` (a cron another process is claiming is skipped), marks
   each pending with the time it fires for, moves it to its next time, and commits: a short transaction that
   holds no lock while runs are made (making one locks its thread, which deleting the thread also locks).
2. Each cron's run is made with an id derived from the cron and that time, then the cron stops being pending.
A process that dies between 1 and 2 leaves the cron pending; after `lease_seconds` another claims that same
time again, and if the run was in fact made, the runs' key refuses the second: nothing is lost or doubled.

No polling loop of fixed period: the scheduler sleeps until the earliest enabled cron is due, at most
`tick_seconds` (how soon a cron created or changed by another process is noticed), and is woken at once when a
cron is created or changed in this process. A time missed while no server ran is fired once, late, and the
cron continues from now (no burst of catch-up runs).

`tick(now)` is the whole of one firing pass, so tests drive it with any `now` and no sleeping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Callable

from db import crons
from db.models import Cron, Run
from db.session import Database
from docusign_agent.schedules import next_fire
from runtime.runs.crons import run_id_for, run_request
from runtime.runs.errors import RunsError
from runtime.runs.service import RunService

log = logging.getLogger(__name__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CronScheduler:
    def __init__(self, database: Database, runs: RunService, *, tick_seconds: float = 15.0, batch_size: int = 50,
                 lease_seconds: int = 60, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.db = database
        self.runs = runs
        self.tick_seconds = tick_seconds
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._claimed = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="cron-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def tick(self, now: dt.datetime | None = None) -> list[uuid.UUID]:
        """Fire every cron due at `now` (default: the clock) that no other process is firing; the ids of the
        runs made."""
        now = now or self.clock()
        async with self.db.anonymous_session() as session:
            claimed = await crons.claim_due(session, now, self.batch_size, self.lease_seconds)
            for cron in claimed:
                assert cron.pending_fire is not None
                if cron.next_run_date <= cron.pending_fire:  # not moved on yet (a claimant that died may have)
                    await crons.advance(session, cron.cron_id, next_fire(cron.schedule, cron.timezone, now))
        self._claimed = len(claimed)
        made: list[uuid.UUID] = []
        for cron in claimed:
            run_id, settled = await self._fire(cron, cron.pending_fire)  # type: ignore[arg-type]
            if run_id is not None:
                made.append(run_id)
            if settled:
                async with self.db.anonymous_session() as session:
                    await crons.fired(session, cron.cron_id, cron.pending_fire)  # type: ignore[arg-type]
        return made

    async def _fire(self, cron: Cron, fire_time: dt.datetime) -> tuple[uuid.UUID | None, bool]:
        """(the run made, whether this time is settled); unsettled, it is claimed again after the lease."""
        run_id = run_id_for(cron.cron_id, fire_time)
        try:
            run = await self.runs.create(cron.user_id, cron.thread_id, run_request(cron), run_id=run_id)
        except RunsError as exc:  # the thread is busy and the cron says reject, its assistant is gone, ...
            log.warning("cron %s could not make its run for %s: %s", cron.cron_id, fire_time, exc.message)
            return None, True
        except Exception:
            if await self._made(cron.user_id, run_id):
                log.info("cron %s had already fired for %s", cron.cron_id, fire_time)
                return None, True
            log.exception("cron %s could not make its run for %s; trying again later", cron.cron_id, fire_time)
            return None, False
        return run.run_id, True

    async def _made(self, user_id: uuid.UUID, run_id: uuid.UUID) -> bool:
        async with self.db.user_session(user_id) as session:
            return await session.get(Run, run_id) is not None

    async def _seconds_to_next(self) -> float:
        async with self.db.anonymous_session() as session:
            due = await crons.next_due_at(session)
        if due is None:
            return self.tick_seconds
        wait = (due - self.clock()).total_seconds()
        # Due but not claimed: another process holds it (or it just became due); look again shortly.
        return min(self.tick_seconds, wait if wait > 0 else 1.0)

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
                wait = 0.0 if self._claimed >= self.batch_size else await self._seconds_to_next()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("firing crons failed; trying again on the next tick")
                wait = self.tick_seconds
            if wait > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
                except TimeoutError:
                    pass
            self._wake.clear()
