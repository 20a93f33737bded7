"""Does AsyncPostgresSaver's process-wide lock limit us? Checkpoint writes/reads per second at N concurrent
conversations, with the stock saver and with `agent.checkpointer.PooledPostgresSaver`, on the same pool.

    uv run python -m benchmarks.checkpointer_bench [--database-url URL] [--concurrency 32] [--seconds 5]

Without --database-url it uses the embedded Postgres under a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from agent.checkpointer import PooledPostgresSaver, open_pool
from db.embedded import start_embedded
from db.urls import with_database


async def workload(saver: AsyncPostgresSaver, concurrency: int, seconds: float) -> tuple[int, float]:
    deadline = time.perf_counter() + seconds
    done = 0

    async def conversation() -> None:
        nonlocal done
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
    args = parser.parse_args()
    admin = args.database_url or start_embedded(Path(tempfile.mkdtemp()), "postgres")
    name = f"dsa_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = with_database(admin, name)
    try:
        pool = open_pool(url, max_size=20)
        await pool.open()
        await AsyncPostgresSaver(pool).setup()  # type: ignore[arg-type]
        results = {}
        for label, cls in (("AsyncPostgresSaver (stock, locked)", AsyncPostgresSaver),
                           ("PooledPostgresSaver (ours, no lock)", PooledPostgresSaver)):
            saver = cls(pool)  # type: ignore[arg-type]
            await workload(saver, 4, 0.5)  # warm up
            steps, elapsed = await workload(saver, args.concurrency, args.seconds)
            results[label] = steps / elapsed
            print(f"{label:40s} {steps / elapsed:8.0f} put+get/s at {args.concurrency} conversations")
        stock, ours = results.values()
        print(f"ratio ours/stock: {ours / stock:.2f}x")
        await pool.close()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


if __name__ == "__main__":
    asyncio.run(main())
