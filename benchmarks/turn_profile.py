"""Where a turn's time goes on our server: SQL per turn, a py-spy profile under load, pyinstrument for one turn.

    uv run python -m benchmarks.turn_profile sql [--turns 50] [--target ours-redis]
    uv run python -m benchmarks.turn_profile pyspy --py-spy PATH [--seconds 20] [--concurrency 32] [--target ours]
        [--graph trivial|agent]
    uv run --with pyinstrument python -m benchmarks.turn_profile pyinstrument [--turns 1]

Each starts a private Postgres cluster (see benchmarks/api_bench.py) unless given --database-url (then `sql`
needs --pg-log, that server's log file).

`sql` sets `log_statement = all` on the benchmark's own database (nothing else on that Postgres is logged),
runs sequential turns of the trivial graph and counts the statements that database logged, by kind, and the
transactions `pg_stat_database` counted. `pyspy` records the server process (`--format raw`, idle frames
excluded) under concurrent turns and attributes each sample to a library (the innermost non-stdlib frame)
and to an activity of ours (the outermost frame of ours); with the server's CPU-ms per turn measured in the
same window, the shares become CPU-ms per turn. `pyinstrument` serves the app inside this process and prints
the call tree of one turn (client and server together: read the server's branches).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import subprocess
import tempfile
from pathlib import Path

import psycopg

from benchmarks.api_bench import MESSAGES, STREAM_MODE, http_phase, start_redis
from benchmarks.loadgen import Connection, cpu_ms_between, cpu_ticks, tree
from benchmarks.targets import Environment, PrivatePostgres, Target, start_ours

LIBRARIES = {  # py-spy names a file by its path under site-packages (langgraph's by its subpackage)
    "sqlalchemy": "SQLAlchemy", "asyncpg": "asyncpg", "psycopg": "psycopg", "psycopg_pool": "psycopg",
    "postgres": "langgraph-checkpoint-postgres", "checkpoint": "langgraph-checkpoint (serde)",
    "pregel": "LangGraph", "graph": "LangGraph", "channels": "LangGraph", "_internal": "LangGraph",
    "prebuilt": "LangGraph", "managed": "LangGraph", "langchain_core": "LangChain core", "pydantic": "pydantic",
    "pydantic_core": "pydantic", "redis": "redis-py", "uvicorn": "uvicorn + httptools", "httptools": "uvicorn + httptools",
    "starlette": "Starlette/FastAPI", "fastapi": "Starlette/FastAPI", "sse_starlette": "Starlette/FastAPI",
    "prometheus_client": "prometheus-client", "jwt": "PyJWT", "orjson": "orjson", "api": "our code (api/, db/)",
    "db": "our code (api/, db/)", "runtime": "our code (runtime/)", "agent": "our code (agent/)",
    "docusign_client": "our code (docusign_client/)", "cli": "our code (cli/)", "benchmarks": "the trivial graph's nodes",
}
STDLIB_LABEL = "Python stdlib + event loop"
ACTIVITIES = [  # the first marker found anywhere in a stack names what the sample was doing
    ("RunExecutor._settle", "settle: read final state, update run + thread rows"),
    ("RunExecutor.publish", "encode + publish events to the bus"),
    ("postgres/", "checkpointer: write/read checkpoints (Postgres)"),
    ("RunExecutor._stream", "graph execution (Pregel, nodes, callbacks)"),
    ("RunExecutor.execute", "executor: load run row, start"),
    ("RunWorker._claim", "claim the run"),
    ("RunWorker", "worker: wakeups, heartbeats"),
    ("RunService.create", "create the run (request: SQL)"),
    ("stream_run", "run route: validate, respond"),
    ("RunService", "SSE: bus -> client"),
    ("with_heartbeats", "SSE: bus -> client"),
    ("current_principal", "authenticate"),
    ("create_thread", "POST /threads"),
    ("bus.py", "bus readers"),
    ("http_setup.py", "request middleware (ids, logs, metrics)"),
    ("middleware.py", "request middleware (ids, logs, metrics)"),
    ("httptools_impl", "HTTP parsing + ASGI plumbing"),
    ("starlette/", "HTTP parsing + ASGI plumbing"),
]


def _frames(stack: str) -> list[tuple[str, str]]:
    out = []
    for frame in stack.split(";"):
        match = re.match(r"(.*) \((.*?):\d+\)$", frame.strip())
        if match:
            out.append((match.group(1), match.group(2)))
    return out


def _library(file: str) -> str | None:
    head = file.split("/", 1)[0]
    if file.startswith("<frozen") or "/" not in file and head.endswith(".py"):
        return None  # a stdlib module
    return LIBRARIES.get(head, None if head in _STDLIB_PACKAGES else f"other ({head})")


_STDLIB_PACKAGES = {"asyncio", "concurrent", "json", "email", "http", "logging", "importlib", "collections",
                    "encodings", "urllib", "ctypes", "xml", "multiprocessing", "unittest", "re"}


def attribute(raw: str) -> tuple[collections.Counter[str], collections.Counter[str], int]:
    libraries: collections.Counter[str] = collections.Counter()
    activities: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = _frames(stack)
        library = next((lib for _, file in reversed(frames) if (lib := _library(file)) is not None), STDLIB_LABEL)
        libraries[library] += samples
        text = ";".join(f"{function} {file}" for function, file in frames)
        activities[next((label for marker, label in ACTIVITIES if marker in text), "event loop, other")] += samples
    return libraries, activities, total


def table(counter: collections.Counter[str], total: int, cpu_per_turn: float, title: str) -> str:
    rows = [f"| {title} | share | CPU-ms per turn |", "| --- | ---: | ---: |"]
    for name, samples in counter.most_common():
        rows.append(f"| {name} | {samples / total:.0%} | {samples / total * cpu_per_turn:.1f} |")
    return "\n".join(rows)


def environment(args: argparse.Namespace, workdir: Path, helpers: list[subprocess.Popen[bytes]]) -> Environment:
    redis_url = args.redis_url
    if redis_url is None and (private := start_redis(workdir)):
        redis_url = private[0]
        helpers.append(private[1])
    if args.database_url:
        admin = args.database_url
    else:
        postgres = PrivatePostgres(workdir)
        admin = postgres.url
        args.pg_log = args.pg_log or str(postgres.log)
        args.postgres = postgres
    return Environment(admin_url=admin, redis_url=redis_url, workdir=workdir)


async def pyspy(args: argparse.Namespace, env: Environment) -> None:
    target = start_ours(env, args.target, args.target)
    try:
        await http_phase(target, args.graph, 4, 3)  # warm up
        out = env.workdir / "profile.raw"
        pid = target.procs[0].pid
        pids = sorted(tree(target.roots()))
        before = cpu_ticks(pids)
        spy = subprocess.Popen([args.py_spy, "record", "--pid", str(max(pids) if args.workers_child else pid),
                                "--format", "raw", "--rate", "250", "--duration", str(int(args.seconds) + 1),
                                "--output", str(out), "--nonblocking"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        turns, errors, elapsed = await http_phase(target, args.graph, args.concurrency, args.seconds)
        after = cpu_ticks(tree(target.roots()))
        spy.wait(60)
        cpu_per_turn = cpu_ms_between(before, after) / max(len(turns), 1)
        libraries, activities, total = attribute(out.read_text())
        print(f"{len(turns)} turns in {elapsed:.1f}s ({len(turns) / elapsed:.1f}/s, errors {errors}), "
              f"server CPU {cpu_per_turn:.1f} ms/turn, {total} samples; raw profile: {out}\n")
        print(table(libraries, total, cpu_per_turn, "library (innermost frame)"))
        print()
        print(table(activities, total, cpu_per_turn, "activity (outermost frame of ours)"))
    finally:
        target.stop()


KINDS = [("BEGIN", "BEGIN"), ("COMMIT", "COMMIT"), ("ROLLBACK", "ROLLBACK"), ("set_config", "set_config (RLS identity)"),
         ("dsa_claim_runs", "claim (dsa_claim_runs)"), ("dsa_heartbeat", "heartbeat"), ("dsa_sweep", "sweep"),
         ("select thread_id, checkpoint", "checkpoint reads"),
         ("WITH blobs AS", "checkpoint + its blobs (one statement)"),
         ("checkpoint_blobs", "checkpoint blobs"), ("checkpoint_writes", "checkpoint writes"),
         ("checkpoint_migrations", "checkpoint migrations"), ("checkpoints", "checkpoints"),
         ("INSERT INTO runs", "insert run"), ("UPDATE runs", "update run"), ("FROM runs", "select runs"),
         ("INSERT INTO threads", "insert thread"), ("UPDATE threads", "update thread"), ("FROM threads", "select thread"),
         ("profiles", "profiles"), ("user_preferences", "preferences"), ("audit_log", "audit")]


async def sql(args: argparse.Namespace, env: Environment) -> None:
    log_path = Path(args.pg_log)
    name = f"{args.target}-sql"
    target = None
    try:
        original = env.new_database

        def logged_database(label: str) -> tuple[str, str]:
            database, url = original(label)
            with psycopg.connect(env.admin_url, autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{database}" SET log_statement = \'all\'')
            return database, url

        env.new_database = logged_database  # type: ignore[method-assign]
        target = start_ours(env, name, args.target)
        conn = Connection("127.0.0.1", target.port, target.headers)
        thread = await conn.json("POST", "/threads", {})
        body = {"assistant_id": "trivial", "input": {"messages": [{"role": "user", "content": MESSAGES["trivial"]}]},
                "stream_mode": STREAM_MODE}
        for _ in range(3):
            await conn.stream(f"/threads/{thread['thread_id']}/runs/stream", body)  # type: ignore[index]
        with psycopg.connect(env.admin_url, autocommit=True) as admin:
            def xacts() -> int:
                row = admin.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                                    (target.database,)).fetchone()  # type: ignore[union-attr]
                return int(row[0])  # type: ignore[index]

            admin.execute("SELECT pg_stat_clear_snapshot()")
            start_size = log_path.stat().st_size
            x0 = xacts()
            for _ in range(args.turns):
                await conn.stream(f"/threads/{thread['thread_id']}/runs/stream", body)  # type: ignore[index]
            await asyncio.sleep(1.0)  # stats are flushed at most once a second
            admin.execute("SELECT pg_stat_clear_snapshot()")
            x1 = xacts()
        with log_path.open("rb") as handle:
            handle.seek(start_size)
            text = handle.read().decode("utf-8", "replace")
        entries: list[str] = []
        for line in text.splitlines():  # a statement's continuation lines carry no prefix
            if re.match(r"\d{4}-\d\d-\d\d ", line):
                entries.append(line)
            elif entries:
                entries[-1] += " " + line.strip()
        marker = f"@{target.database} LOG:"
        statements = [e.split("LOG:", 1)[1] for e in entries if marker in e]
        statements = [s for s in statements if "statement:" in s or "execute" in s]
        kinds: collections.Counter[str] = collections.Counter()
        for statement in statements:
            kinds[next((label for key, label in KINDS if key in statement), "other")] += 1
        print(f"{args.turns} sequential turns of the trivial graph on {args.target}: "
              f"{len(statements) / args.turns:.1f} statements and {(x1 - x0) / args.turns:.1f} transactions per turn "
              f"(pg_stat_database; heartbeats included)\n")
        print("| statement | per turn |\n| --- | ---: |")
        for label, count in kinds.most_common():
            print(f"| {label} | {count / args.turns:.1f} |")
        (env.workdir / "statements.log").write_text("\n".join(statements))
        print(f"\nall statements: {env.workdir / 'statements.log'}")
    finally:
        if target is not None:
            target.stop()


async def pyinstrument_turn(args: argparse.Namespace, env: Environment) -> None:
    import uvicorn
    from pyinstrument import Profiler

    from api.app import create_app
    from benchmarks.targets import REPO, migrate
    from tests.api_helpers import role_urls
    from tests.servers import free_port
    from docusign_agent.settings import Settings

    database, url = env.new_database("pyinstrument")
    migrate(env, url, REPO, env.workdir)
    settings = Settings(database_url=url, auth_jwt_secret=env.secret, data_dir=env.workdir, log_level="WARNING",
                        langgraph_config=REPO / "benchmarks" / "langgraph.json")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, role_urls(url)), port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    target = Target("pyinstrument", "ours", ("trivial",), port=port, headers={"Authorization": f"Bearer {env.token('p')}"})
    conn = Connection("127.0.0.1", port, target.headers)
    thread = await conn.json("POST", "/threads", {})
    body = {"assistant_id": "trivial", "input": {"messages": [{"role": "user", "content": MESSAGES["trivial"]}]},
            "stream_mode": STREAM_MODE}
    for _ in range(5):
        await conn.stream(f"/threads/{thread['thread_id']}/runs/stream", body)  # type: ignore[index]
    profiler = Profiler(interval=0.0002, async_mode="disabled")
    profiler.start()
    for _ in range(args.turns):
        await conn.stream(f"/threads/{thread['thread_id']}/runs/stream", body)  # type: ignore[index]
    await asyncio.sleep(0.2)  # let the run settle: its last writes follow the end event
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False, show_all=False, timeline=False))
    server.should_exit = True
    await task


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["sql", "pyspy", "pyinstrument"])
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--target", default="ours", choices=["ours", "ours-redis"])
    parser.add_argument("--graph", default="trivial", choices=["trivial", "agent"], help="pyspy: which graph")
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--py-spy", default="py-spy")
    parser.add_argument("--workers-child", action="store_true")
    parser.add_argument("--pg-log", help="the server log of --database-url (default: the private cluster's)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="dsa-profile-"))
    helpers: list[subprocess.Popen[bytes]] = []
    env = environment(args, workdir, helpers)
    try:
        await {"sql": sql, "pyspy": pyspy, "pyinstrument": pyinstrument_turn}[args.mode](args, env)
    finally:
        for proc in helpers:
            proc.terminate()
        env.drop()
        if getattr(args, "postgres", None) is not None:
            args.postgres.stop()


if __name__ == "__main__":
    asyncio.run(main())
