"""Does AsyncPostgresSaver's process-wide lock limit us, and what does row security on the checkpoint tables
cost? Checkpoint writes/reads per second at N concurrent conversations: the stock saver and
`agent.checkpointer.PooledPostgresSaver` on one pool as the database owner (row security does not apply), then
ours as the server runs it: as `dsa_app`, acting for a user, under the tables' forced RLS.

    uv run python -m benchmarks.checkpointer_bench [--database-url URL] [--concurrency 32] [--seconds 5] [--rounds 3]

Without --database-url it uses the embedded Postgres under a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from agent.checkpointer import PooledPostgresSaver, open_pool
from db import migrate
from db.embedded import start_embedded
from db.urls import APP_ROLE, with_database, with_user


async def workload(saver_for: Callable[[], AsyncPostgresSaver], concurrency: int,
                   seconds: float) -> tuple[int, float]:
    """`saver_for()` gives each conversation its saver (under RLS: acting for that conversation's own user)."""
    deadline = time.perf_counter() + seconds
    done = 0

    async def conversation() -> None:
        nonlocal done
        saver = saver_for()
        config = {"configurable": {"thread_id": str(uuid.uuid4()), "checkpoint_ns": ""}}
        step = 0
        while time.perf_counter() < deadline:
            checkpoint = empty_checkpoint()
            checkpoint["channel_values"] = {"messages": [f"message {step}"]}
            config = await saver.aput(config, checkpoint, {"source": "loop", "step": step, "writes": {}}, {})
            await saver.aget_tuple(config)
            step += 1
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(conversation() for _ in range(concurrency)))
    return done, time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    admin = args.database_url or start_embedded(Path(tempfile.mkdtemp()), "postgres")
    name = f"dsa_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = with_database(admin, name)
    try:
        migrate.upgrade(url)
        migrate.setup_checkpoints(url)
        owner_pool, app_pool = open_pool(url, max_size=20), open_pool(with_user(url, APP_ROLE, None), max_size=20)
        await owner_pool.open()
        await app_pool.open()
        stock, ours, app = (AsyncPostgresSaver(owner_pool), PooledPostgresSaver(owner_pool),  # type: ignore[arg-type]
                            PooledPostgresSaver(app_pool))  # type: ignore[arg-type]
        savers: dict[str, Callable[[], AsyncPostgresSaver]] = {
            "AsyncPostgresSaver (stock, locked)": lambda: stock,
            "PooledPostgresSaver (ours, no lock)": lambda: ours,
            # Each conversation a different user, so nearly every call finds its connection acting for another.
            "ours, dsa_app, a user each, under RLS": lambda: app.for_user(uuid.uuid4()),
        }
        for saver_for in savers.values():
            await workload(saver_for, 4, 0.5)  # warm up
        # Interleaved rounds, medians: on a shared machine the load drifts within a run.
        rates: dict[str, list[float]] = {label: [] for label in savers}
        for _ in range(args.rounds):
            for label, saver_for in savers.items():
                steps, elapsed = await workload(saver_for, args.concurrency, args.seconds)
                rates[label].append(steps / elapsed)
        for label, values in rates.items():
            spread = ", ".join(f"{r:.0f}" for r in values)
            print(f"{label:40s} {statistics.median(values):8.0f} put+get/s at {args.concurrency} conversations "
                  f"(rounds: {spread})")
        stock_r, ours_r, rls_r = rates.values()
        print(f"median of per-round ratios: ours/stock {statistics.median(o / s for o, s in zip(ours_r, stock_r)):.2f}x, "
              f"under RLS/ours {statistics.median(r / o for r, o in zip(rls_r, ours_r)):.2f}x")
        await owner_pool.close()
        await app_pool.close()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


if __name__ == "__main__":
    asyncio.run(main())
