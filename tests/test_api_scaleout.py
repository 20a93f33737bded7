"""Two server processes on one Postgres and one Redis: any process serves any run, and a crash is recovered.

Uses REDIS_URL when set; otherwise starts a throwaway `redis-server` if one is installed. Postgres is the
session's main test database (the machine's in CI, the embedded server otherwise), shared by both processes.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.auth import issue_token
from docusign_agent.settings import Settings
from tests.metric_helpers import sample
from tests.api_helpers import RedisProcess, ServerProcess, await_until, human

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    if not RedisProcess.available():
        pytest.skip("needs Redis: set REDIS_URL or install redis-server (the two processes share its streams)")
    with RedisProcess() as redis:
        yield redis.url


@pytest.fixture(scope="module")
def servers(settings: Settings, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    env = {"DATABASE_URL": settings.database_url or "", "REDIS_URL": redis_url,
           "AUTH_JWT_SECRET": settings.auth_jwt_secret or "", "DATA_DIR": str(tmp_path_factory.mktemp("scaleout")),
           "LOG_LEVEL": "WARNING"}
    started: list[ServerProcess] = []
    try:
        started.extend(ServerProcess(env).spawn() for _ in range(2))
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()


def _sdk(server: ServerProcess, token: str):  # type: ignore[no-untyped-def]
    from langgraph_sdk import get_client

    return get_client(url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _active_runs(server: ServerProcess) -> float:
    token = os.environ.get("_SCALEOUT_TOKEN", "")
    text = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=5).text
    return sample(text, "dsa_runs_active")


@pytest.fixture
def token(settings: Settings) -> str:
    import uuid

    value = issue_token(settings, uuid.uuid4(), f"scale-{secrets.token_hex(3)}@example.com")
    os.environ["_SCALEOUT_TOKEN"] = value
    return value


async def test_run_created_on_one_process_is_streamed_and_cancelled_from_the_other(
        servers: list[ServerProcess], token: str) -> None:
    a, b = _sdk(servers[0], token), _sdk(servers[1], token)
    tid = (await a.threads.create())["thread_id"]
    run = await a.runs.create(tid, "test", input=human("slow 15"), stream_mode=["custom", "values"])
    parts = [p async for p in b.runs.join_stream(tid, run["run_id"])]
    assert parts[0].event == "metadata" and parts[-1].event == "end"
    assert [p.data["tick"] for p in parts if p.event == "custom" and "tick" in p.data] == list(range(15))
    assert (await b.threads.get_state(tid))["values"]["messages"][-1]["content"] == "slept 15 ticks"
    # and the other way round, live: streamed on B while created (and maybe executed) on A
    streamed = [p async for p in b.runs.stream(tid, "test", input=human("from b"), stream_mode="values")]
    assert streamed[-2].data["messages"][-1]["content"] == "echo: from b"
    assert (await a.runs.list(tid, limit=1))[0]["status"] == "success"

    slow = await a.runs.create(tid, "test", input=human("slow 600"))
    await await_until(lambda: _status_is(a, tid, slow["run_id"], "running"))
    await b.runs.cancel(tid, slow["run_id"])  # reaches whichever process executes it, through the bus
    await await_until(lambda: _status_is(a, tid, slow["run_id"], "interrupted"), timeout=15)


async def _status_is(client, tid: str, rid: str, status: str) -> bool:  # type: ignore[no-untyped-def]
    return (await client.runs.get(tid, rid))["status"] == status


async def test_kill_9_of_the_executing_process_leaves_a_usable_thread(
        servers: list[ServerProcess], token: str, settings: Settings, tmp_path: Path) -> None:
    clients = [_sdk(s, token) for s in servers]
    tid = (await clients[0].threads.create())["thread_id"]
    await clients[0].runs.wait(tid, "test", input=human("before the crash"))
    run = await clients[0].runs.create(tid, "test", input=human("slow 600"))
    await await_until(lambda: _status_is(clients[0], tid, run["run_id"], "running"))
    # "running" is set when a process claims the run; its gauge moves when that process starts executing it.
    executing = await await_until(lambda: next((i + 1 for i, s in enumerate(servers) if _active_runs(s) >= 1),
                                               None)) - 1
    survivor = 1 - executing
    servers[executing].kill()

    client = clients[survivor]
    parts = [p async for p in client.runs.join_stream(tid, run["run_id"])]  # ends once the run is swept
    assert parts[-1].event == "end" and parts[-1].data["status"] == "error"
    assert any(p.event == "error" and p.data["error"] == "WorkerLost" for p in parts)
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "error"
    assert (await client.threads.get(tid))["status"] == "error"
    state = await client.threads.get_state(tid)
    assert state["values"]["messages"][1]["content"] == "echo: before the crash"
    result = await client.runs.wait(tid, "test", input=human("after the crash"))
    assert result["messages"][-1]["content"] == "echo: after the crash"
    assert (await client.threads.get(tid))["status"] == "idle"
