"""The compiled graph in a process of its own, with an InMemorySaver: no HTTP, no database for checkpoints.

Driven by `benchmarks/api_bench.py` over stdin/stdout, one JSON line per phase (`{"graph", "concurrency",
"seconds", "message"}`), answered with the phase's turns and latencies; the harness reads this process's CPU
from /proc exactly as it does a server's. A turn is `astream(..., stream_mode=["messages", "values"])` of one
user message on the conversation's thread; the first event stands for a server's first SSE byte.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

import orjson
from langgraph.checkpoint.memory import InMemorySaver

from benchmarks.targets import REPO
from runtime.runs.graph_config import load_graph_config
from runtime.runs.graphs import GraphRegistry


async def phase(graph, concurrency: int, seconds: float, message: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    firsts: list[float] = []
    totals: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def conversation() -> None:
        nonlocal errors
        config = {"configurable": {"thread_id": str(uuid.uuid4())}}
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            first = 0.0
            try:
                async for _ in graph.astream({"messages": [{"role": "user", "content": message}]}, config,
                                             stream_mode=["messages", "values"]):
                    if not first:
                        first = time.perf_counter() - start
            except Exception as exc:  # noqa: BLE001 - counted, reported by the harness
                errors += 1
                if errors <= 3:
                    print(f"turn failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                continue
            firsts.append(first)
            totals.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(conversation() for _ in range(concurrency)))
    return {"elapsed": time.perf_counter() - start, "firsts": firsts, "totals": totals, "errors": errors}


async def main() -> None:
    registry = GraphRegistry(load_graph_config(REPO / "benchmarks" / "langgraph.json"))
    saver = InMemorySaver()
    graphs = {gid: registry.get(gid, saver) for gid in registry.graph_ids}
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command = orjson.loads(line)
        result = await phase(graphs[command["graph"]], command["concurrency"], command["seconds"], command["message"])
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
