"""What the checkpointer costs per turn: the trivial graph in this process over Postgres checkpoints, for each
saver and LangGraph durability mode, in interleaved rounds (A/B in one process, so machine load hits both alike).

    uv run python -m benchmarks.checkpoint_turns [--database-url URL] [--concurrency 32] [--seconds 4] [--rounds 5]
        [--savers upstream,ours,memory] [--durability async,sync,exit] [--users each|one]

A turn is what the server does per run: `astream` of one user message (stream modes messages + values), then
`aget_state` (the settle's read of the final state). Savers: `upstream` is `PooledPostgresSaver` with the stock
`AsyncPostgresSaver` write methods (one statement per blob and per pending write, serialised in a thread: what
the server ran before), `ours` the server's saver as it is, `memory` LangGraph's `InMemorySaver` (the floor).
Postgres savers run as the server runs them: `dsa_app` under row security, acting for a user (`--users each`: a
user per conversation, so calls find their pooled connection acting for someone else; `one`: the benchmark
server's case). Per phase: this process's CPU per turn (`time.process_time`), the CPU of the database's
backends (from /proc), transactions and statements per turn (`pg_stat_database`, `pg_stat_statements`),
turns/s.

Without --database-url a private Postgres cluster is started and removed (see benchmarks/targets.py).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from agent.checkpointer import PooledPostgresSaver, make_checkpointer, open_pool
from benchmarks.api_bench import MESSAGES
from benchmarks.loadgen import cpu_ms_between, cpu_ticks
from benchmarks.targets import REPO, PrivatePostgres
from db import migrate
from db.urls import APP_ROLE, with_database, with_user
from runtime.runs.graph_config import load_graph_config
from runtime.runs.graphs import GraphRegistry

MESSAGE = MESSAGES["trivial"]


class UpstreamWrites(PooledPostgresSaver):
    """The server's saver with the stock write path (what `PooledPostgresSaver` inherited before)."""

    aput = AsyncPostgresSaver.aput  # type: ignore[assignment]
    aput_writes = AsyncPostgresSaver.aput_writes  # type: ignore[assignment]


async def phase(graph: Any, saver_for: Any, durability: str, concurrency: int, seconds: float,
                users: str) -> tuple[int, float, float]:
    deadline = time.perf_counter() + seconds
    turns = 0
    shared = uuid.uuid4()

    async def conversation() -> None:
        nonlocal turns
        mine = graph.copy(update={"checkpointer": saver_for(shared if users == "one" else uuid.uuid4())})
        config = {"configurable": {"thread_id": str(uuid.uuid4())}}
        while time.perf_counter() < deadline:
            async for _ in mine.astream({"messages": [{"role": "user", "content": MESSAGE}]}, config,
                                        stream_mode=["messages", "values"], durability=durability):
                pass
            await mine.aget_state(config)
            turns += 1

    cpu, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(conversation() for _ in range(concurrency)))
    return turns, time.perf_counter() - start, (time.process_time() - cpu) * 1000


def backends(admin: psycopg.Connection[Any], database: str) -> list[int]:
    return [r[0] for r in admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]


def counters(admin: psycopg.Connection[Any], database: str) -> tuple[int, int]:
    """Transactions (`pg_stat_database`) and statements (`pg_stat_statements`, 0 where it is not loaded) of
    `database` so far."""
    admin.execute("SELECT pg_stat_clear_snapshot()")
    row = admin.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                        (database,)).fetchone()
    try:
        calls = admin.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d "
                              "ON d.oid = s.dbid WHERE d.datname = %s", (database,)).fetchone()
    except psycopg.Error:
        calls = None
    return (int(row[0]) if row else 0), (int(calls[0]) if calls else 0)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--savers", default="upstream,ours,memory")
    parser.add_argument("--durability", default="async,sync,exit")
    parser.add_argument("--users", choices=["each", "one"], default="each")
    args = parser.parse_args()
    postgres = None if args.database_url else PrivatePostgres(Path(tempfile.mkdtemp(prefix="dsa-ckpt-")))
    admin_url = args.database_url or postgres.url  # type: ignore[union-attr]
    database = f"dsa_ckpt_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    url = with_database(admin_url, database)
    pool = open_pool(with_user(url, APP_ROLE, None), max_size=20)
    try:
        migrate.upgrade(url)
        migrate.setup_checkpoints(url)
        await pool.open(wait=True)
        ours, memory = make_checkpointer(pool), InMemorySaver()
        upstream = UpstreamWrites(pool)  # type: ignore[arg-type]
        choices = {"upstream": lambda u: upstream.for_user(u), "ours": lambda u: ours.for_user(u),
                   "memory": lambda u: memory}
        savers = {name: choices[name] for name in args.savers.split(",")}
        modes = args.durability.split(",")
        graph = GraphRegistry(load_graph_config(REPO / "benchmarks" / "langgraph.json")).get("trivial", ours)
        results: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
        with psycopg.connect(admin_url, autocommit=True) as admin:
            try:
                admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            except psycopg.Error:
                pass  # not loaded on this server: statements are reported as 0
            for saver_for in savers.values():
                await phase(graph, saver_for, "async", 4, 0.5, args.users)  # warm up: imports, prepares
            for round_ in range(args.rounds):
                for mode in modes:
                    for name, saver_for in savers.items():
                        pids = backends(admin, database)
                        before, (xacts, calls) = cpu_ticks(pids), counters(admin, database)
                        turns, elapsed, cpu = await phase(graph, saver_for, mode, args.concurrency, args.seconds,
                                                          args.users)
                        pg = cpu_ms_between(before, cpu_ticks(pids))
                        await asyncio.sleep(1.1)  # the backends' statistics reach the shared view once a second
                        xacts_after, calls_after = counters(admin, database)
                        n = max(turns, 1)
                        row = (turns / elapsed, cpu / n, pg / n, (xacts_after - xacts) / n, (calls_after - calls) / n)
                        results.setdefault((name, mode), []).append(row)
                        print(f"  r{round_ + 1} {mode:5s} {name:8s} {row[0]:6.1f} turns/s  process {row[1]:5.1f} "
                              f"ms/turn  Postgres {row[2]:5.1f}  xacts {row[3]:4.1f}  statements {row[4]:4.1f}",
                              flush=True)
        print(f"\ntrivial graph in-process + aget_state per turn, {args.concurrency} conversations, users: "
              f"{args.users}, medians of {args.rounds} rounds of {args.seconds:g} s\n")
        print("| saver | durability | turns/s | process CPU-ms/turn | Postgres CPU-ms/turn | transactions/turn | "
              "statements/turn |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for (name, mode), rows in results.items():
            med = [statistics.median(r[i] for r in rows) for i in range(5)]
            print(f"| {name} | {mode} | {med[0]:.1f} | {med[1]:.1f} | {med[2]:.1f} | {med[3]:.1f} | {med[4]:.1f} |")
        base = next(iter(savers))
        print(f"\nmedian of per-round differences against `{base}` (same durability; process CPU-ms/turn):\n")
        for (name, mode), rows in results.items():
            if name != base and (base, mode) in results:
                deltas = [a[1] - b[1] for a, b in zip(rows, results[(base, mode)], strict=True)]
                print(f"- {name}, {mode}: {statistics.median(deltas):+.1f} ms/turn "
                      f"(rounds: {', '.join(f'{d:+.1f}' for d in deltas)})")
    finally:
        try:
            await pool.close()
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE {database} WITH (FORCE)")
        finally:
            if postgres is not None:  # the private cluster goes whatever happened above
                postgres.stop()
                shutil.rmtree(postgres.data.parent, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
