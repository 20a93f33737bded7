"""Our server against its peers, in one run, on the trivial graph and on the agent.

    uv run python -m benchmarks.api_bench [--quick] [--database-url URL] [--redis-url URL]
        [--targets ours,ours-redis,ours-redis-x2,langgraph-dev,aegra,inprocess] [--graphs trivial,agent]
        [--concurrency 1,8,32,128] [--seconds 8] [--repeats 3] [--aegra-bin PATH] [--variant NAME=DIR[:BASE]]
        [--out results.json]

Every server gets the same load loop: N conversations, each creating its thread and then, until the phase
ends, POST /threads/{id}/runs/stream with stream_mode ["messages-tuple", "values"] and one user message, read
to the end over a keep-alive connection. Measured per phase: time to the first SSE body byte and to the end of
the turn (p50/p99), completed turns per second, and CPU-ms per turn from /proc for the server's process tree,
for the Postgres backends of its database, and for Redis (when the harness started its own). Phases run
interleaved (every target at one level before the next level, the order rotated each repeat) and the report
gives the median of the repeats, with ratios of ours against each peer measured in the same run.

Without --database-url it starts a private Postgres cluster (the machine's binaries, a temp directory, a free
port: a shared server has too few connection slots for six servers, and others' work would be counted);
without --redis-url it starts a private `redis-server` on a free port, so its CPU is ours alone.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg

from benchmarks.loadgen import Connection, HttpError, cpu_ms_between, cpu_ticks, pct, tree
from benchmarks.targets import OURS, Environment, PrivatePostgres, Target, start_aegra, start_inprocess, start_langgraph_dev, start_ours
from tests.servers import free_port

MESSAGES = {"trivial": "what time is it", "agent": "what templates do I have"}
STREAM_MODE = ["messages-tuple", "values"]


@dataclass
class Phase:
    target: str
    graph: str
    concurrency: int
    repeat: int
    turns: int
    errors: int
    seconds: float
    turns_per_s: float
    first_p50: float
    first_p99: float
    turn_p50: float
    turn_p99: float
    server_cpu_ms: float
    pg_cpu_ms: float
    redis_cpu_ms: float
    loadgen_cpu_ms: float


class Meter:
    """CPU of a target's processes, its Postgres backends and Redis over one phase."""

    def __init__(self, admin: psycopg.Connection[Any], target: Target, redis_pid: int | None) -> None:
        self.admin, self.target, self.redis_pid = admin, target, redis_pid

    def _backends(self) -> list[int]:
        if self.target.database is None:
            return []
        rows = self.admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.target.database,))
        return [r[0] for r in rows]

    def snapshot(self) -> tuple[dict[int, int], dict[int, int], dict[int, int], float]:
        return (cpu_ticks(tree(self.target.roots())), cpu_ticks(self._backends()),
                cpu_ticks([self.redis_pid] if self.redis_pid else []), time.process_time())


async def http_phase(target: Target, graph: str, concurrency: int, seconds: float) -> tuple[list[Any], int, float]:
    conns = [Connection("127.0.0.1", target.port, target.headers) for _ in range(concurrency)]
    threads = await asyncio.gather(*(c.json("POST", "/threads", {}) for c in conns))
    body = {"assistant_id": graph, "input": {"messages": [{"role": "user", "content": MESSAGES[graph]}]},
            "stream_mode": STREAM_MODE, **target.body}
    turns: list[Any] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def conversation(conn: Connection, thread_id: str) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            try:
                turns.append(await conn.stream(f"/threads/{thread_id}/runs/stream", body))
            except (HttpError, OSError, ValueError) as exc:
                errors += 1
                if errors <= 3:
                    print(f"  {target.name} {graph}: {exc}")
                conn.close()
                await asyncio.sleep(0.05)

    start = time.perf_counter()
    await asyncio.gather(*(conversation(c, t["thread_id"]) for c, t in zip(conns, threads, strict=True)))
    elapsed = time.perf_counter() - start
    for conn in conns:
        conn.close()
    return turns, errors, elapsed


def inprocess_phase(target: Target, graph: str, concurrency: int, seconds: float) -> tuple[list[Any], int, float]:
    proc = target.procs[0]
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(orjson.dumps({"graph": graph, "concurrency": concurrency, "seconds": seconds,
                                   "message": MESSAGES[graph]}) + b"\n")
    proc.stdin.flush()
    result = orjson.loads(proc.stdout.readline())
    from benchmarks.loadgen import Turn

    turns = [Turn(f, t, 0) for f, t in zip(result["firsts"], result["totals"], strict=True)]
    return turns, result["errors"], result["elapsed"]


async def run_phase(meter: Meter, graph: str, concurrency: int, seconds: float, repeat: int) -> Phase:
    target = meter.target
    before = meter.snapshot()
    if target.kind == "inprocess":
        turns, errors, elapsed = await asyncio.to_thread(inprocess_phase, target, graph, concurrency, seconds)
    else:
        turns, errors, elapsed = await http_phase(target, graph, concurrency, seconds)
    after = meter.snapshot()
    n = max(len(turns), 1)
    return Phase(
        target=target.name, graph=graph, concurrency=concurrency, repeat=repeat, turns=len(turns), errors=errors,
        seconds=elapsed, turns_per_s=len(turns) / elapsed,
        first_p50=pct([t.first_byte for t in turns], 0.5), first_p99=pct([t.first_byte for t in turns], 0.99),
        turn_p50=pct([t.total for t in turns], 0.5), turn_p99=pct([t.total for t in turns], 0.99),
        server_cpu_ms=cpu_ms_between(before[0], after[0]) / n, pg_cpu_ms=cpu_ms_between(before[1], after[1]) / n,
        redis_cpu_ms=cpu_ms_between(before[2], after[2]) / n, loadgen_cpu_ms=(after[3] - before[3]) * 1000 / n,
    )


# --- report -----------------------------------------------------------------------------------------------------

METRICS = ("turns_per_s", "first_p50", "first_p99", "turn_p50", "turn_p99", "server_cpu_ms", "pg_cpu_ms",
           "redis_cpu_ms", "loadgen_cpu_ms")


def medians(phases: list[Phase]) -> dict[tuple[str, str, int], dict[str, float]]:
    grouped: dict[tuple[str, str, int], list[Phase]] = {}
    for phase in phases:
        grouped.setdefault((phase.target, phase.graph, phase.concurrency), []).append(phase)
    return {key: {m: statistics.median(getattr(p, m) for p in group) for m in METRICS} |
            {"errors": sum(p.errors for p in group), "repeats": len(group)} for key, group in grouped.items()}


def report(phases: list[Phase], targets: list[str], graphs: list[str], levels: list[int],
           variants: dict[str, str] | None = None) -> str:
    table = medians(phases)
    out = []
    for graph in graphs:
        out.append(f"\n### {graph} graph (medians of {max((v['repeats'] for v in table.values()), default=0):.0f})\n")
        out.append("| target | conc. | turns/s | first byte p50 | p99 | turn p50 | p99 | server CPU-ms/turn | "
                   "Postgres | Redis | errors |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for level in levels:
            for name in targets:
                row = table.get((name, graph, level))
                if row is None:
                    continue
                out.append(f"| {name} | {level} | {row['turns_per_s']:.1f} | {row['first_p50']:.1f} ms | "
                           f"{row['first_p99']:.1f} ms | {row['turn_p50']:.1f} ms | {row['turn_p99']:.1f} ms | "
                           f"{row['server_cpu_ms']:.1f} | {row['pg_cpu_ms']:.1f} | {row['redis_cpu_ms']:.1f} | "
                           f"{row['errors']:.0f} |")
        ours = [t for t in targets if t not in ("langgraph-dev", "aegra", "inprocess") and t not in (variants or {})]
        peers = [t for t in targets if t in ("langgraph-dev", "aegra", "inprocess")]
        if ours and peers:
            out.append("\nRatios, ours / peer (turns/s; server+Postgres+Redis CPU per turn):\n")
            out.append("| ours | peer | " + " | ".join(f"turns/s @{lv}" for lv in levels) + " | CPU/turn @32 |")
            out.append("| --- | --- |" + " ---: |" * (len(levels) + 1))
            for mine in ours:
                for peer in peers:
                    cells = []
                    for level in levels:
                        a, b = table.get((mine, graph, level)), table.get((peer, graph, level))
                        cells.append(f"{a['turns_per_s'] / b['turns_per_s']:.2f}x" if a and b and b["turns_per_s"]
                                     else "–")
                    a, b = table.get((mine, graph, 32)), table.get((peer, graph, 32))
                    cpu = "–"
                    if a and b:
                        total_b = b["server_cpu_ms"] + b["pg_cpu_ms"] + b["redis_cpu_ms"]
                        if total_b:
                            cpu = f"{(a['server_cpu_ms'] + a['pg_cpu_ms'] + a['redis_cpu_ms']) / total_b:.2f}x"
                    if any(c != "–" for c in cells):
                        out.append(f"| {mine} | {peer} | " + " | ".join(cells) + f" | {cpu} |")
    if variants:
        out.append("\n### variants against their baseline (same run; turns/s ratio, CPU-ms per turn)\n")
        out.append("| variant | graph | conc. | turns/s | vs base | first byte p50 | server CPU-ms/turn | vs base | "
                   "Postgres | Redis |")
        out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, base in variants.items():
            for graph in graphs:
                for level in levels:
                    a, b = table.get((name, graph, level)), table.get((base, graph, level))
                    if not a or not b:
                        continue
                    out.append(f"| {name} | {graph} | {level} | {a['turns_per_s']:.1f} | "
                               f"{a['turns_per_s'] / b['turns_per_s']:.2f}x | {a['first_p50']:.1f} ms "
                               f"({b['first_p50']:.1f}) | {a['server_cpu_ms']:.1f} | "
                               f"{a['server_cpu_ms'] - b['server_cpu_ms']:+.1f} | {a['pg_cpu_ms']:.1f} "
                               f"({b['pg_cpu_ms'] - a['pg_cpu_ms']:+.1f}) | {a['redis_cpu_ms']:.1f} |")
    return "\n".join(out)


# --- main ------------------------------------------------------------------------------------------------------


def start_redis(workdir: Path) -> tuple[str, subprocess.Popen[bytes]] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--databases", "64"], cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    deadline = time.monotonic() + 20
    while True:
        try:
            redis.Redis(port=port).ping()
            return f"redis://127.0.0.1:{port}/0", proc
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_target(env: Environment, spec: str) -> Target:
    if spec in OURS:
        return start_ours(env, spec, spec)
    if spec == "langgraph-dev":
        return start_langgraph_dev(env)
    if spec == "aegra":
        return start_aegra(env)
    if spec == "inprocess":
        return start_inprocess(env)
    raise SystemExit(f"unknown target {spec!r}")


def start_variant(env: Environment, spec: str) -> Target:
    """NAME=DIR[:BASE][?durability=MODE]: `serve` from the source tree DIR, configured like BASE (ours-redis)."""
    name, _, rest = spec.partition("=")
    rest, _, query = rest.partition("?")
    src, _, base = rest.partition(":")
    body = dict(part.split("=", 1) for part in query.split("&") if part)
    target = start_ours(env, name, base or "ours-redis", src=Path(src).resolve() if src else
                        Path(__file__).resolve().parents[1], body=body)
    target.base = base or "ours-redis"
    return target


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="admin URL of a Postgres (default: a private cluster in a temp dir)")
    parser.add_argument("--redis-url", help="a Redis for the Redis targets (default: a private redis-server)")
    parser.add_argument("--targets", default="ours,ours-redis,ours-redis-x2,langgraph-dev,aegra,inprocess")
    parser.add_argument("--graphs", default="trivial,agent")
    parser.add_argument("--concurrency", default="1,8,32,128")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--aegra-bin", default="/work/peers/aegra/bin/aegra",
                        help="`aegra` installed outside the repo (skipped when missing)")
    parser.add_argument("--variant", action="append", default=[], help="NAME=DIR[:BASE][?durability=MODE]")
    parser.add_argument("--quick", action="store_true", help="smoke check: 1 repeat, 2 s phases, levels 1 and 8")
    parser.add_argument("--out", help="write every phase as JSON here")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.seconds, args.concurrency = 1, 2.0, "1,8"
    levels = [int(x) for x in args.concurrency.split(",")]
    graphs = args.graphs.split(",")
    workdir = Path(tempfile.mkdtemp(prefix="dsa-api-bench-"))
    print(f"work directory (server logs): {workdir}")
    helpers: list[subprocess.Popen[bytes]] = []
    redis_url, redis_pid = args.redis_url, None
    if redis_url is None and (private := start_redis(workdir)):
        redis_url, redis_pid = private[0], private[1].pid
        helpers.append(private[1])
    postgres = None
    if args.database_url:
        admin = args.database_url
    else:
        postgres = PrivatePostgres(workdir)
        admin = postgres.url
    aegra = Path(args.aegra_bin) if args.aegra_bin and Path(args.aegra_bin).exists() else None
    env = Environment(admin_url=admin, redis_url=redis_url, workdir=workdir, aegra_bin=aegra)
    wanted = args.targets.split(",")
    if "aegra" in wanted and aegra is None:
        print(f"aegra: not installed at {args.aegra_bin}; skipped (see docs/BENCHMARKS.md to install it)")
        wanted.remove("aegra")
    if redis_url is None:
        wanted = [t for t in wanted if not OURS.get(t, (0, False))[1]]
        print("no Redis: the Redis targets are skipped")
    targets: list[Target] = []
    phases: list[Phase] = []
    try:
        for spec in wanted:
            print(f"starting {spec} ...", flush=True)
            targets.append(start_target(env, spec))
        for spec in args.variant:
            targets.append(start_variant(env, spec))
            print(f"started variant {targets[-1].name}", flush=True)
        with psycopg.connect(admin, autocommit=True) as conn:
            meters = [Meter(conn, t, redis_pid if t.uses_redis else None) for t in targets]
            for meter in meters:  # warm up: imports, first profile, DocuSign provisioning
                for graph in graphs:
                    if graph in meter.target.graphs:
                        await run_phase(meter, graph, 2, 1.5, 0)
            for repeat in range(1, args.repeats + 1):
                order = meters[repeat - 1:] + meters[:repeat - 1]  # rotate who goes first
                for graph in graphs:
                    for level in levels:
                        for meter in order:
                            if graph not in meter.target.graphs:
                                continue
                            phase = await run_phase(meter, graph, level, args.seconds, repeat)
                            phases.append(phase)
                            print(f"  r{repeat} {graph:7s} c={level:<3d} {phase.target:16s} "
                                  f"{phase.turns_per_s:6.1f} turns/s  first p50 {phase.first_p50:7.1f} ms  "
                                  f"cpu {phase.server_cpu_ms:5.1f}+{phase.pg_cpu_ms:4.1f}+{phase.redis_cpu_ms:4.1f} "
                                  f"ms/turn  errors {phase.errors}", flush=True)
        names = [t.name for t in targets]
        variants = {t.name: t.base for t in targets if t.base}
        print(report(phases, names, graphs, levels, variants))
        if args.out:
            Path(args.out).write_bytes(orjson.dumps([asdict(p) for p in phases], option=orjson.OPT_INDENT_2))
    finally:
        for target in targets:
            target.stop()
        for proc in helpers:
            proc.terminate()
        env.drop()
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    asyncio.run(main())
