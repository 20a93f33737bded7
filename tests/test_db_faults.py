"""Database faults seen through the API, with real pools on a real server.

After Postgres drops every connection (a restart, or `pg_terminate_backend`), the next turn, thread and read
succeed at once: every pool replaces its dead connections on checkout. While the database is down, every
route answers 503 JSON with Retry-After (never a 500 text), and service resumes by itself when it is back.
"""

from __future__ import annotations

import asyncio
import os
import resource
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from agent.checkpointer import open_pool
from api.app import create_app
from db.session import Database
from docusign_agent.settings import Settings
from tests.api_helpers import ApiServer, human, runtime_options
from tests.conftest import DatabaseFactory, role_urls
from tests.servers import ServerThread, await_until
from tests.webhook_helpers import PgProxy, serve


def server_backends(url: str) -> set[int]:
    """The backends the server under test holds on its own database (the test's connections excluded)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                            "AND pid <> pg_backend_pid() AND application_name LIKE 'docusign-agent%%' "
                            "OR (datname = current_database() AND pid <> pg_backend_pid() "
                            "AND usename IN ('dsa_app', 'dsa_webhook'))").fetchall()
    return {pid for (pid,) in rows}


def backend_alive(url: str, pid: int) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() is not None


def terminate(url: str, pids: set[int]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (list(pids),))


async def test_turns_right_after_every_connection_is_dropped(
        settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str) -> None:
    url = db_factories[main_backend].create()
    app_settings = settings.model_copy(update={"database_url": url})
    app = create_app(app_settings, role_urls(url), runtime_options=runtime_options())
    with ServerThread(app) as server:
        api = ApiServer(url=server.url, settings=app_settings)
        client = api.client()
        # Warm every pool with more than one connection: concurrent turns on several threads, and reads.
        tids = [t["thread_id"] for t in await asyncio.gather(*(client.threads.create() for _ in range(3)))]
        await asyncio.gather(*(client.runs.wait(tid, "test", input=human("before")) for tid in tids))
        async with api.http() as http:
            assert (await http.get("/v1/envelopes")).status_code == 200
        held = server_backends(url)
        assert len(held) >= 3, held

        terminate(url, held)  # what a Postgres restart does to every pooled connection
        await await_until(lambda: not (server_backends(url) & held), timeout=60)

        # The very first requests after it: no "server closed the connection unexpectedly".
        results = await asyncio.gather(*(client.runs.wait(tid, "test", input=human("after")) for tid in tids))
        assert [r["messages"][-1]["content"] for r in results] == ["echo: after"] * len(tids)
        for tid in tids:
            assert [r["status"] for r in await client.runs.list(tid)] == ["success", "success"]
            state = await client.threads.get_state(tid)
            assert [m["content"] for m in state["values"]["messages"]] == ["before", "echo: before", "after",
                                                                             "echo: after"]
        assert (await client.threads.create())["thread_id"]
        async with api.http() as http:
            assert (await http.get("/v1/envelopes")).status_code == 200


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.request.method, response.request.url, response.text)
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["retry-after"] == "5"
    body: dict[str, Any] = response.json()
    assert body["error"] == "unavailable" and "retry" in body["message"]


async def test_every_route_answers_503_while_the_database_is_down(
        settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str) -> None:
    url = db_factories[main_backend].create()
    proxy = PgProxy(url)
    await proxy.start()
    app_settings = settings.model_copy(update={"database_url": proxy.proxied()})
    app = create_app(app_settings, role_urls(proxy.proxied()), runtime_options=runtime_options())
    api = ApiServer(url="", settings=app_settings)
    try:
        async with serve(app) as base, httpx.AsyncClient(base_url=base, headers=api.headers(), timeout=60) as http:
            created = await http.post("/threads", json={})
            assert created.status_code == 200, created.text
            tid = created.json()["thread_id"]
            assert (await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "test",
                                                                       "input": human("up")})).status_code == 200

            await proxy.stop()  # the database is gone, and so is every connection to it
            assert_unavailable(await http.post("/threads", json={}))
            assert_unavailable(await http.get(f"/threads/{tid}"))
            assert_unavailable(await http.post("/threads/search", json={}))
            assert_unavailable(await http.get(f"/threads/{tid}/state"))
            assert_unavailable(await http.post(f"/threads/{tid}/runs", json={"assistant_id": "test",
                                                                             "input": human("down")}))
            assert_unavailable(await http.get("/v1/envelopes"))
            assert_unavailable(await http.get("/v1/preferences"))
            assert (await http.get("/ok")).status_code == 200  # the process itself is alive

            await proxy.start()  # back: the first requests succeed, on new connections
            again = await http.post("/threads", json={})
            assert again.status_code == 200, again.text
            assert (await http.get(f"/threads/{tid}")).status_code == 200
            done = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "test", "input": human("back")})
            assert done.status_code == 200 and done.json()["messages"][-1]["content"] == "echo: back"
            runs = (await http.get(f"/threads/{tid}/runs")).json()
            assert [r["status"] for r in runs] == ["success", "success"]  # the refused run was never created
    finally:
        await proxy.stop()


async def test_pooled_checkpoint_connections_past_descriptor_1024_are_kept_and_still_checked(
        db_factories: dict[str, DatabaseFactory], main_backend: str) -> None:
    """A server holding a thousand event streams gives its database sockets descriptors past 1024, where
    `select()` refuses them: the check then failed on every checkout, the pool reopened healthy connections
    over and over, and runs timed out waiting for one. Healthy ones must be kept, dead ones still replaced."""
    url = db_factories[main_backend].create()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1400
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"needs {wanted} open files; this process may open {hard} (ulimit -n)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    fillers = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    pool = open_pool(url, max_size=1)
    try:
        await pool.open(wait=True)
        pids, fds = [], []
        for _ in range(5):
            async with pool.connection() as conn:
                fds.append(conn.fileno())
                pids.append((await (await conn.execute("SELECT pg_backend_pid() AS pid")).fetchone())["pid"])
        assert min(fds) >= 1024, fds  # the case under test: every socket past select()'s limit
        assert len(set(pids)) == 1, pids  # one healthy connection, kept across checkouts
        assert pool.get_stats().get("connections_lost", 0) == 0

        terminate(url, {pids[0]})  # a dead connection past the limit is still found at checkout
        await await_until(lambda: not backend_alive(url, pids[0]), timeout=60)  # gone, its goodbye sent
        async with pool.connection() as conn:
            again = (await (await conn.execute("SELECT pg_backend_pid() AS pid")).fetchone())["pid"]
        assert again != pids[0]
    finally:
        await pool.close()
        for fd in fillers:
            os.close(fd)
        if soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_app_pool_keeps_the_connections_a_burst_opened(
        db_factories: dict[str, DatabaseFactory], main_backend: str) -> None:
    """Transactions beyond the pool's base size used to get overflow connections, closed on return and opened
    again on the next burst (a TLS attempt, authentication and a new backend each): every connection a burst
    opens is kept for the next one, up to the same peak."""
    url = db_factories[main_backend].create()
    database = Database(role_urls(url), pool_size=3)
    user = uuid.uuid4()
    try:
        async def burst() -> set[int]:
            inside = asyncio.Event()
            entered = 0

            async def one() -> int:
                nonlocal entered
                async with database.user_connection(user) as conn:
                    pid = await conn.fetchval("SELECT pg_backend_pid()")
                    entered += 1
                    if entered == 6:
                        inside.set()
                    await inside.wait()  # all six hold a connection at once
                    return int(pid)

            # Six at once fit only if the pool holds 2 * pool_size: fewer would wait here, and fail at the timeout.
            return set(await asyncio.wait_for(asyncio.gather(*(one() for _ in range(6))), timeout=60))

        first = await burst()
        assert len(first) == 6  # the peak: 2 * pool_size
        second = await burst()
        assert second == first
    finally:
        await database.dispose()
