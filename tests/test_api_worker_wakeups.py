"""The run worker claims only when something may be waiting, and never misses a run for it.

Heartbeats are set far beyond the test's length here, so their periodic wake-up cannot rescue a run that the
worker forgot: every run below must be claimed by the wake-ups themselves (a run created here, a run finishing
while others waited for room, a run finishing with another queued on its thread). The bus is in-process, so no
other server's announcements (on a shared Redis) wake this one either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from docusign_agent.settings import Settings
from runtime.runs.process import RuntimeOptions
from runtime.runs.worker import WorkerOptions
from tests.api_helpers import ApiServer, graph_registry, human, role_urls
from tests.servers import ServerThread


@pytest.fixture(scope="module")
def one_slot_server(settings: Settings) -> Iterator[ApiServer]:
    from api.app import create_app

    options = RuntimeOptions(graphs=graph_registry(), sse_heartbeat_seconds=0.5,
                             worker=WorkerOptions(max_concurrency=1, heartbeat_seconds=3600))
    settings = settings.model_copy(update={"redis_url": None})
    app = create_app(settings, role_urls(settings.database_url), runtime_options=options)  # type: ignore[arg-type]
    with ServerThread(app) as server:
        yield ApiServer(url=server.url, settings=settings)


async def test_runs_waiting_for_room_start_when_a_run_finishes(one_slot_server: ApiServer) -> None:
    client = one_slot_server.client()
    threads = [(await client.threads.create())["thread_id"] for _ in range(4)]
    # Each run takes at least 0.5 s; the later ones are created while the only slot may be taken.
    runs = [await client.runs.create(tid, "test", input=human("slow 5")) for tid in threads]
    results = await asyncio.wait_for(asyncio.gather(*(client.runs.join(tid, run["run_id"])
                                                      for tid, run in zip(threads, runs, strict=True))), 120)
    assert [r["messages"][-1]["content"] for r in results] == ["slept 5 ticks"] * 4
    assert {(await client.runs.get(tid, run["run_id"]))["status"]
            for tid, run in zip(threads, runs, strict=True)} == {"success"}


async def test_a_queued_run_starts_when_the_run_before_it_finishes(one_slot_server: ApiServer) -> None:
    client = one_slot_server.client()
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "test", input=human("slow 3"))
    queued = await client.runs.create(tid, "test", input=human("queued"), multitask_strategy="enqueue")
    values = await asyncio.wait_for(client.runs.join(tid, queued["run_id"]), 120)
    assert values["messages"][-1]["content"] == "echo: queued"
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "success"
