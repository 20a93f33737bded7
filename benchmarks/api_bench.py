"""Our server against its peer, `langgraph dev`, serving the same graph in the same run.

For each server: time from POST /threads/{id}/runs/stream to the first SSE event and to the end of the turn
(p50/p99 over sequential turns), then completed turns per second with N concurrent conversations. A turn is
one user message through the real graph: the offline model over ChatOpenAI, a DocuSign tool call against the
emulator, and the answer. Both servers use the same Postgres for the app tables; checkpoints go to Postgres for
ours and to langgraph dev's in-memory store for the peer.

    uv run python -m benchmarks.api_bench [--database-url URL] [--concurrency 32] [--seconds 20] [--turns 30]

Without --database-url it uses the embedded Postgres in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from db.embedded import start_embedded
from db.urls import with_database

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MESSAGE = "what templates do I have"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    url: str
    headers: dict[str, str]
    proc: subprocess.Popen[bytes]


def wait_ok(url: str, proc: subprocess.Popen[bytes], timeout: float = 120, path: str = "/ok") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server at {url} exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start")


def start_servers(database_url: str, data_dir: Path, workers: int = 1, redis_url: str | None = None,
                  extra: list[subprocess.Popen[bytes]] | None = None) -> list[Server]:
    env = {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "LANGGRAPH_CLI_NO_ANALYTICS": "1",
           "LANGSMITH_TRACING": "false", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    ours_env = dict(env)
    if workers > 1:
        # Several processes share runs through Redis and need one emulator served apart.
        if not redis_url:
            raise SystemExit("--workers > 1 needs --redis-url")
        emulator_port = free_port()
        emulator = subprocess.Popen([BIN / "docusign-agent", "emulator", "--port", str(emulator_port)], env=env,
                                    cwd=data_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        (extra if extra is not None else []).append(emulator)
        wait_ok(f"http://127.0.0.1:{emulator_port}/_emulator", emulator, path="/config")
        ours_env.update({"REDIS_URL": redis_url,
                         "DOCUSIGN_EMULATOR_URL": f"http://127.0.0.1:{emulator_port}/_emulator"})
    subprocess.run([BIN / "docusign-agent", "migrate"], env=env, check=True, cwd=data_dir, capture_output=True)
    token = subprocess.run([BIN / "docusign-agent", "token", "--user", "bench@example.com"], env=env, check=True,
                           cwd=data_dir, capture_output=True, text=True).stdout.strip()
    ours_port, peer_port = free_port(), free_port()
    ours = subprocess.Popen([BIN / "docusign-agent", "serve", "--port", str(ours_port), "--workers", str(workers)],
                            env=ours_env, cwd=data_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peer = subprocess.Popen([BIN / "langgraph", "dev", "--port", str(peer_port), "--no-browser", "--no-reload"],
                            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    name = "docusign-agent serve" + (f" x{workers}" if workers > 1 else "")
    servers = [Server(name, f"http://127.0.0.1:{ours_port}", {"Authorization": f"Bearer {token}"}, ours),
               Server("langgraph dev (peer)", f"http://127.0.0.1:{peer_port}", {}, peer)]
    for server in servers:
        wait_ok(server.url, server.proc)
    return servers


async def turn(client: httpx.AsyncClient, server: Server, thread_id: str) -> tuple[float, float]:
    body = {"assistant_id": "agent", "input": {"messages": [{"role": "user", "content": MESSAGE}]},
            "stream_mode": ["values"]}
    start = time.perf_counter()
    first = None
    async with client.stream("POST", f"{server.url}/threads/{thread_id}/runs/stream", json=body,
                             headers=server.headers) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if first is None and line.startswith("event:"):
                first = time.perf_counter() - start
            if line.startswith("event: error"):
                raise RuntimeError(f"{server.name} streamed an error")
    return first or 0.0, time.perf_counter() - start


async def new_thread(client: httpx.AsyncClient, server: Server) -> str:
    response = await client.post(f"{server.url}/threads", json={}, headers=server.headers)
    response.raise_for_status()
    return str(response.json()["thread_id"])


async def latency(server: Server, turns: int) -> tuple[list[float], list[float]]:
    async with httpx.AsyncClient(timeout=60) as client:
        thread = await new_thread(client, server)
        await turn(client, server, thread)  # warm up: provisioning, first imports
        firsts, totals = [], []
        for _ in range(turns):
            first, total = await turn(client, server, await new_thread(client, server))
            firsts.append(first)
            totals.append(total)
    return firsts, totals


async def throughput(server: Server, concurrency: int, seconds: float) -> float:
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        threads = [await new_thread(client, server) for _ in range(concurrency)]
        deadline = time.perf_counter() + seconds
        done = 0

        async def conversation(thread: str) -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await turn(client, server, thread)
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(conversation(t) for t in threads))
        return done / (time.perf_counter() - start)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1, help="our server's processes (more than one: Redis)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="dsa-bench-"))
    admin = args.database_url or start_embedded(workdir / "pg", "postgres")
    name = f"dsa_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    servers: list[Server] = []
    helpers: list[subprocess.Popen[bytes]] = []
    try:
        servers = start_servers(with_database(admin, name), workdir, args.workers, args.redis_url, helpers)
        rows = []
        for server in servers:
            firsts, totals = await latency(server, args.turns)
            rate = await throughput(server, args.concurrency, args.seconds)
            rows.append((server.name, pct(firsts, 0.5), pct(firsts, 0.99), statistics.median(totals) * 1000, rate))
        print(f"{'server':26s} {'first event p50':>16s} {'p99':>8s} {'turn p50':>10s} {'turns/s @' + str(args.concurrency):>12s}")
        for row in rows:
            print(f"{row[0]:26s} {row[1]:13.1f} ms {row[2]:5.1f} ms {row[3]:7.1f} ms {row[4]:12.1f}")
        ours, peer = rows
        print(f"ratios ours/peer: first event {ours[1] / peer[1]:.3f}x, throughput {ours[4] / peer[4]:.2f}x")
    finally:
        for proc in [s.proc for s in servers] + helpers:
            proc.terminate()
        for proc in helpers:
            proc.wait(20)
        for server in servers:
            server.proc.terminate()
        for server in servers:
            try:
                server.proc.wait(20)
            except subprocess.TimeoutExpired:
                server.proc.kill()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    asyncio.run(main())
