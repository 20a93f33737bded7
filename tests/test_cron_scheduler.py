"""The cron scheduler, driven with `tick(now)` (no sleeping): two processes' schedulers firing the same due
crons make one run per cron and time; a claimant that died is taken over after its lease without losing or
doubling a run; `end_time` and `enabled` are honoured; schedules read in their time zone."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from langgraph_sdk import get_client
from sqlalchemy import func, select

from api.app import create_app
from api.auth import issue_token
from db import crons
from db.models import Cron, Run
from docusign_agent.schedules import ScheduleError, check_schedule, check_timezone, next_fire
from docusign_agent.settings import Settings
from runtime.runs.cron_scheduler import CronScheduler
from runtime.runs.crons import CRON_ID_KEY, run_id_for, run_request
from runtime.runs.process import AgentRuntime
from tests.api_helpers import human, role_urls, runtime_options
from tests.servers import free_port, serve

NEW_YEAR = "0 0 1 1 *"  # never due in real time during a test (the background loops use the real clock)


@pytest.fixture
async def two_apps(settings: Settings) -> AsyncIterator[tuple[Any, Any]]:
    """Two servers on one database, like two processes, in this test's event loop (their runtimes reachable)."""
    apps = [create_app(settings, role_urls(settings.database_url),  # type: ignore[arg-type]
                       runtime_options=runtime_options()) for _ in range(2)]
    async with serve(apps[0], free_port()) as one, serve(apps[1], free_port()) as two:
        yield (apps[0], one), (apps[1], two)


def _client(settings: Settings, base: str, user: uuid.UUID) -> Any:
    token = issue_token(settings, user, f"sched-{user.hex[:6]}@example.com")
    return get_client(url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)


async def _runs_of(runtime: AgentRuntime, user: uuid.UUID, cron_id: str) -> list[Run]:
    async with runtime.runs.db.user_session(user) as session:
        stmt = select(Run).where(Run.metadata_.contains({CRON_ID_KEY: cron_id}))
        return list((await session.execute(stmt)).scalars())


async def test_two_schedulers_fire_each_time_once(settings: Settings, two_apps: Any) -> None:
    (app_one, base), (app_two, _) = two_apps
    user = uuid.uuid4()
    client = _client(settings, base, user)
    made = []
    for _ in range(5):
        thread = await client.threads.create()
        made.append(await client.crons.create_for_thread(thread["thread_id"], "test", schedule=NEW_YEAR,
                                                         input=human("happy new year")))
    when = max(dt.datetime.fromisoformat(c["next_run_date"]) for c in made) + dt.timedelta(minutes=1)
    one, two = app_one.state.runtime.scheduler, app_two.state.runtime.scheduler
    fired = await asyncio.gather(one.tick(when), two.tick(when), one.tick(when), two.tick(when))
    run_ids = [r for batch in fired for r in batch]
    expected = {run_id_for(uuid.UUID(c["cron_id"]), dt.datetime.fromisoformat(c["next_run_date"])) for c in made}
    assert len(run_ids) == len(set(run_ids))  # no time fired twice (other tests' crons may be due too)
    assert sorted(r for r in run_ids if r in expected) == sorted(expected)  # every one of these fired
    for cron in made:
        runs = await _runs_of(app_one.state.runtime, user, cron["cron_id"])
        assert [r.run_id for r in runs] == [run_id_for(uuid.UUID(cron["cron_id"]),
                                                       dt.datetime.fromisoformat(cron["next_run_date"]))]
        moved = await client.crons.search(thread_id=cron["thread_id"])
        assert dt.datetime.fromisoformat(moved[0]["next_run_date"]) > when  # on to its next time
    assert not expected & set(await one.tick(when) + await two.tick(when))  # nothing is due twice


async def test_a_dead_claimant_is_taken_over_without_losing_or_doubling(settings: Settings, two_apps: Any) -> None:
    (app_one, base), _ = two_apps
    runtime: AgentRuntime = app_one.state.runtime
    user = uuid.uuid4()
    client = _client(settings, base, user)
    lost = await client.crons.create("test", schedule=NEW_YEAR, input=human("lost"), on_run_completed="keep")
    done = await client.crons.create("test", schedule=NEW_YEAR, input=human("done"), on_run_completed="keep")
    when = dt.datetime.fromisoformat(lost["next_run_date"]) + dt.timedelta(minutes=1)
    # A claimant claims both and moves them on, makes the run of one, and dies before settling either.
    async with runtime.runs.db.anonymous_session() as session:
        claimed = await crons.claim_due(session, when, 10, 60)
        assert {str(c.cron_id) for c in claimed} >= {lost["cron_id"], done["cron_id"]}
        for cron in claimed:
            await crons.advance(session, cron.cron_id, next_fire(cron.schedule, cron.timezone, when))
    mine = [c for c in claimed if str(c.cron_id) in (lost["cron_id"], done["cron_id"])]
    fire_time = {str(c.cron_id): c.pending_fire for c in mine}
    first = next(c for c in mine if str(c.cron_id) == done["cron_id"])
    await runtime.runs.create(user, None, run_request(first), run_id=run_id_for(first.cron_id, first.pending_fire))

    assert not set(await runtime.scheduler.tick(when)) & {  # within the lease: still the dead claimant's
        run_id_for(uuid.UUID(c["cron_id"]), fire_time[c["cron_id"]]) for c in (lost, done)}
    heir = CronScheduler(runtime.runs.db, runtime.runs, lease_seconds=0)
    made = await heir.tick(when)
    ours = {run_id_for(uuid.UUID(c["cron_id"]), fire_time[c["cron_id"]]) for c in (lost, done)}
    assert [r for r in made if r in ours] == [run_id_for(uuid.UUID(lost["cron_id"]), fire_time[lost["cron_id"]])]
    for cron in (lost, done):
        assert len(await _runs_of(runtime, user, cron["cron_id"])) == 1
    assert not ours & set(await heir.tick(when))  # both settled
    async with runtime.runs.db.owner_session() as session:
        pending = (await session.execute(select(func.count()).select_from(Cron).where(
            Cron.cron_id.in_([uuid.UUID(lost["cron_id"]), uuid.UUID(done["cron_id"])]),
            Cron.pending_fire.is_not(None)))).scalar_one()
    assert pending == 0


async def test_end_time_and_disabled_crons_do_not_fire(settings: Settings, two_apps: Any) -> None:
    (app_one, base), _ = two_apps
    runtime: AgentRuntime = app_one.state.runtime
    client = _client(settings, base, uuid.uuid4())
    ended = await client.crons.create("test", schedule=NEW_YEAR, input=human("x"),
                                      end_time=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    paused = await client.crons.create("test", schedule=NEW_YEAR, input=human("x"), enabled=False)
    live = await client.crons.create("test", schedule=NEW_YEAR, input=human("x"))
    when = dt.datetime.fromisoformat(live["next_run_date"]) + dt.timedelta(minutes=1)
    made = await runtime.scheduler.tick(when)
    assert run_id_for(uuid.UUID(live["cron_id"]), dt.datetime.fromisoformat(live["next_run_date"])) in made
    for cron in (ended, paused):
        assert run_id_for(uuid.UUID(cron["cron_id"]), dt.datetime.fromisoformat(cron["next_run_date"])) not in made
        assert (await client.crons.search(metadata=None, limit=100))  # still there, untouched
    resumed = await client.crons.update(paused["cron_id"], enabled=True)
    assert resumed["enabled"] is True and resumed["next_run_date"] == paused["next_run_date"]


def test_schedules_are_read_in_their_time_zone() -> None:
    winter, summer = dt.datetime(2026, 12, 1, tzinfo=dt.UTC), dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert next_fire("0 9 * * 1", "Europe/Berlin", winter) == dt.datetime(2026, 12, 7, 8, tzinfo=dt.UTC)
    assert next_fire("0 9 * * 1", "Europe/Berlin", summer) == dt.datetime(2026, 6, 1, 7, tzinfo=dt.UTC)
    assert next_fire("0 9 * * 1", None, winter) == dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)
    at_nine = dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)
    assert next_fire("0 9 * * 1", None, at_nine) == dt.datetime(2026, 12, 14, 9, tzinfo=dt.UTC)  # strictly after
    for bad in ("", "every monday", "61 * * * *", "* * *"):
        with pytest.raises(ScheduleError, match="cron format"):
            check_schedule(bad)
    with pytest.raises(ScheduleError, match="IANA"):
        check_timezone("Mars/Olympus")
