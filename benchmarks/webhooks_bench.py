"""Connect receiver benchmark: durable acknowledgements per second, ack latency, and ack-to-mirror lag.

    uv run python benchmarks/webhooks_bench.py [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--seconds 10] [--concurrency 50,200] [--lag-rate 200]

Against a real `docusign-agent serve` process (uvicorn, one worker) on a fresh database of the given server
(default: $BENCH_DATABASE_URL, $TEST_DATABASE_URL or $DATABASE_URL; the embedded Postgres if none), it measures:

- the peer: raw single-row autocommit INSERTs of the same bodies into a scratch table of the same shape, from
  asyncpg connections in this process (as many as the server's pool), in the same run on the same Postgres;
- sustained signed deliveries per second acknowledged (200 = committed) at each concurrency, with p50/p99 ack
  latency, from keep-alive HTTP/1.1 senders (a minimal client, so the load generator costs little CPU);
- the lag from acknowledgement to the mirror update, seen by a `/v1/events` SSE client, at a paced rate;
- how long the worker takes to apply the backlog left by the sustained phases.

Prints a Markdown table (and `--json` for machines). Not a test: the figures go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg
import psycopg
from psycopg import sql

from db import migrate
from db.urls import driver_url, with_database
from tests.webhook_helpers import free_port, lifecycle, sign

KEY = "bench-" + secrets.token_urlsafe(24)


# --- a minimal keep-alive HTTP/1.1 client ---------------------------------------------------------------------


class Sender:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}",
                "Content-Type: application/json"] + [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        assert self.reader is not None
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        close = False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        await self.reader.readexactly(length)
        if close:
            self.writer.close()
            self.writer = None
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


# --- setup ------------------------------------------------------------------------------------------------------


def admin_url(arg: str | None) -> tuple[str, Any]:
    url = arg or os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or \
        os.environ.get("DATABASE_URL")
    if url:
        return url, None
    from db.embedded import start_embedded

    tmp = tempfile.mkdtemp(prefix="bench-pg-")
    return start_embedded(Path(tmp), "postgres"), tmp


def create_database(admin: str) -> str:
    name = f"dsa_bench_{secrets.token_hex(4)}"
    with psycopg.connect(driver_url(admin, "libpq"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(admin, name)
    migrate.upgrade(url)
    return url


def drop_database(admin: str, url: str) -> None:
    name = url.rsplit("/", 1)[-1].split("?")[0]
    with psycopg.connect(driver_url(admin, "libpq"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def start_server(url: str, data_dir: Path, pool_size: int) -> tuple[subprocess.Popen[bytes], int, str]:
    port = free_port()
    secret = "bench-" + secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORT", "REDIS_URL")}
    env.update({"DATABASE_URL": url, "DOCUSIGN_CONNECT_HMAC_KEYS": KEY, "DATA_DIR": str(data_dir),
                "AUTH_JWT_SECRET": secret, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING",
                "DB_POOL_SIZE": str(pool_size)})
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(data_dir / "server.log", "wb"))  # noqa: SIM115
    return proc, port, secret


async def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited; see server.log")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if b"200" in await reader.readline():
                writer.close()
                return
            writer.close()
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError("server did not start")


def bodies_for(account: str, ds_user: str, count: int, rng: random.Random) -> list[tuple[bytes, dict[str, str]]]:
    out: list[tuple[bytes, dict[str, str]]] = []
    while len(out) < count:
        for body in lifecycle(account, ds_user, rng).events:
            out.append((body, {"X-DocuSign-Signature-1": sign(body, KEY)}))
    return out[:count]


# --- measurements -------------------------------------------------------------------------------------------------


async def raw_insert_rate(url: str, bodies: list[tuple[bytes, dict[str, str]]], connections: int,
                          seconds: float) -> float:
    dsn = driver_url(url, "libpq")
    setup = await asyncpg.connect(dsn)
    await setup.execute("CREATE TABLE IF NOT EXISTS bench_raw (LIKE webhook_events INCLUDING ALL)")

    await setup.execute("TRUNCATE bench_raw")
    await setup.close()
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
    stmt = ("INSERT INTO bench_raw (dedupe_key, event, envelope_id, raw_body, payload) "
            "VALUES ($1, 'envelope-sent', $2, $3::text, $3::text::jsonb)")
    done = 0
    stop = time.monotonic() + seconds
    counter = iter(range(10**9))

    async def loop() -> None:
        nonlocal done
        async with pool.acquire() as conn:
            while time.monotonic() < stop:
                i = next(counter)
                body = bodies[i % len(bodies)][0].decode()
                await conn.execute(stmt, f"{i}-{uuid.uuid4().hex}", str(i), body)
                done += 1

    started = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(connections)))
    elapsed = time.monotonic() - started
    await pool.close()
    return done / elapsed


async def sustained(port: int, bodies: list[tuple[bytes, dict[str, str]]], start: int, concurrency: int,
                    seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    index = start
    stop = time.monotonic() + seconds

    async def loop() -> None:
        nonlocal index
        sender = Sender("127.0.0.1", port)
        try:
            while time.monotonic() < stop and index < len(bodies):
                body, headers = bodies[index]
                index += 1
                t0 = time.perf_counter()
                status = await sender.post("/webhooks/docusign", body, headers)
                if status == 200:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors[status] = errors.get(status, 0) + 1
        finally:
            sender.close()

    started = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [float("nan")] * 99
    return {"concurrency": concurrency, "acked": len(latencies), "errors": errors, "seconds": elapsed,
            "rate": len(latencies) / elapsed, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "next": index}


async def open_loop(port: int, bodies: list[tuple[bytes, dict[str, str]]], start: int, connections: int,
                    rate: float, seconds: float) -> dict[str, Any]:
    """Offered load at a fixed rate over `connections` keep-alive senders; latency counts from the scheduled
    send time, so queueing behind a slow answer is included (no coordinated omission)."""
    total = int(rate * seconds)
    senders = [Sender("127.0.0.1", port) for _ in range(connections)]
    locks = [asyncio.Lock() for _ in range(connections)]
    latencies: list[float] = []
    errors: dict[int, int] = {}
    t0 = time.perf_counter()

    async def one(i: int) -> None:
        scheduled = t0 + i / rate
        k = i % connections
        async with locks[k]:
            body, headers = bodies[start + i]
            status = await senders[k].post("/webhooks/docusign", body, headers)
        if status == 200:
            latencies.append(time.perf_counter() - scheduled)
        else:
            errors[status] = errors.get(status, 0) + 1

    tasks = []
    for i in range(total):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    for sender in senders:
        sender.close()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [float("nan")] * 99
    return {"connections": connections, "rate": rate, "acked": len(latencies), "errors": errors,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "next": start + total}


async def backlog_drain(url: str) -> float:
    started = time.monotonic()
    conn = await asyncpg.connect(driver_url(url, "libpq"))
    try:
        while await conn.fetchval("SELECT count(*) FROM webhook_events WHERE status = 'pending'"):
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    return time.monotonic() - started


async def lag(port: int, token: str, bodies: list[tuple[bytes, dict[str, str]]], start: int, rate: float,
              seconds: float) -> dict[str, Any]:
    """Deliver at a paced rate; the SSE stream reports each mirror update with its webhook_event_id."""
    seen: dict[int, float] = {}
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    while (await reader.readline()) not in (b"\r\n", b""):
        pass

    async def read_sse() -> None:
        while True:
            line = await reader.readline()
            if not line:
                return
            text = line.decode().strip()
            if text.startswith("data:") and "webhook_event_id" in text:
                try:
                    payload = json.loads(text[5:].strip())
                except json.JSONDecodeError:
                    continue  # a chunk-size line split across reads
                seen.setdefault(int(payload["webhook_event_id"]), time.perf_counter())

    sse = asyncio.create_task(read_sse())
    await asyncio.sleep(0.5)
    senders = [Sender("127.0.0.1", port) for _ in range(8)]
    interval = 1.0 / rate
    total = int(rate * seconds)
    t_start = time.perf_counter()

    ack_ids: dict[int, float] = {}  # server-assigned event id -> ack time

    async def one_with_id(i: int, sender: Sender) -> None:
        body, headers = bodies[start + i]
        if sender.writer is None or sender.writer.is_closing():
            sender.reader, sender.writer = await asyncio.open_connection("127.0.0.1", port)
        head = ["POST /webhooks/docusign HTTP/1.1", "Host: x", f"Content-Length: {len(body)}",
                "Content-Type: application/json"] + [f"{k}: {v}" for k, v in headers.items()]
        sender.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        assert sender.reader is not None
        await sender.reader.readline()
        length = 0
        while (line := await sender.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
        answer = json.loads(await sender.reader.readexactly(length))
        ack_ids[int(answer["id"])] = time.perf_counter()

    locks = [asyncio.Lock() for _ in senders]

    async def paced(i: int) -> None:
        k = i % len(senders)
        async with locks[k]:
            await one_with_id(i, senders[k])

    tasks = []
    for i in range(total):
        target = t_start + i * interval
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(paced(i)))
    await asyncio.gather(*tasks)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not set(ack_ids) <= set(seen) | _unchanged(ack_ids, seen):
        await asyncio.sleep(0.1)
    sse.cancel()
    writer.close()
    for s in senders:
        s.close()
    lags = sorted(seen[i] - ack_ids[i] for i in ack_ids if i in seen)
    q = statistics.quantiles(lags, n=100) if len(lags) > 100 else [float("nan")] * 99
    return {"rate": rate, "events": len(ack_ids), "observed": len(lags), "p50_ms": q[49] * 1000,
            "p99_ms": q[98] * 1000, "max_ms": (lags[-1] * 1000) if lags else float("nan")}


def _unchanged(acked: dict[int, float], seen: dict[int, float]) -> set[int]:
    """Events that changed nothing visible (older than the mirror) never produce a frame; give them 2 s."""
    now = time.perf_counter()
    return {i for i, t in acked.items() if now - t > 2.0}


# --- main ---------------------------------------------------------------------------------------------------------


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", default="50,200")
    parser.add_argument("--lag-rate", type=float, default=200.0)
    parser.add_argument("--open-rate", type=float, default=500.0, help="offered deliveries/s for the latency runs")
    parser.add_argument("--lag-seconds", type=float, default=10.0)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    admin, _tmp = admin_url(args.database_url)
    url = create_database(admin)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-data-"))
    proc, port, secret = start_server(url, data_dir, args.pool_size)
    try:
        rng = random.Random(1)
        ds_user, account = str(uuid.uuid4()), str(uuid.uuid4())
        user = uuid.uuid4()
        with psycopg.connect(driver_url(url, "libpq")) as conn:
            conn.execute("INSERT INTO profiles (id, email, docusign_user_id, docusign_account_id) "
                         "VALUES (%s, %s, %s, %s)", (user, f"{user}@bench.invalid", ds_user, account))
        need = int(sum(levels) * args.seconds * 40 + (args.open_rate * len(levels) + args.lag_rate) * args.seconds) + 1000
        bodies = bodies_for(account, ds_user, need, rng)
        await wait_ready(port, proc)

        raw = max([await raw_insert_rate(url, bodies, n, min(5.0, args.seconds)) for n in (args.pool_size, 50)])
        results = []
        index = 0
        for level in levels:
            result = await sustained(port, bodies, index, level, args.seconds)
            index = result["next"]
            result["drain_s"] = await backlog_drain(url)
            results.append(result)

        open_results = []
        for level in levels:
            result = await open_loop(port, bodies, index, level, args.open_rate, args.seconds)
            index = result["next"]
            await backlog_drain(url)
            open_results.append(result)

        import jwt

        token = jwt.encode({"sub": str(user), "exp": int(time.time()) + 3600}, secret, algorithm="HS256")
        lag_result = await lag(port, token, bodies, index, args.lag_rate, args.lag_seconds)
        with psycopg.connect(driver_url(url, "libpq")) as conn:
            statuses = dict(conn.execute("SELECT status, count(*) FROM webhook_events GROUP BY status").fetchall())
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        drop_database(admin, url)

    report = {"raw_insert_per_s": raw, "sustained": results, "open_loop": open_results, "lag": lag_result,
              "cpus": os.cpu_count(),
              "events_by_status": statuses}
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return
    print(f"raw single-row INSERT (asyncpg, autocommit, same Postgres): {raw:,.0f}/s")
    print()
    print("| senders | acked/s | vs raw | p50 ack | p99 ack | non-200 | backlog drained in |")
    print("| ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for r in results:
        print(f"| {r['concurrency']} | {r['rate']:,.0f} | {r['rate'] / raw:.0%} | {r['p50_ms']:.1f} ms | "
              f"{r['p99_ms']:.1f} ms | {r['errors'] or 'none'} | {r['drain_s']:.1f} s |")
    print()
    print("| senders | offered | acked | p50 ack | p99 ack | non-200 |")
    print("| ---: | ---: | ---: | ---: | ---: | --- |")
    for r in open_results:
        print(f"| {r['connections']} | {r['rate']:.0f}/s | {r['acked']} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | "
              f"{r['errors'] or 'none'} |")
    print()
    print(f"ack -> mirror update seen on /v1/events at {lag_result['rate']:.0f} deliveries/s: "
          f"p50 {lag_result['p50_ms']:.0f} ms, p99 {lag_result['p99_ms']:.0f} ms, max {lag_result['max_ms']:.0f} ms "
          f"({lag_result['observed']} of {lag_result['events']} events changed the mirror)")
    print(f"stored events by status at the end: {statuses}")


if __name__ == "__main__":
    asyncio.run(main())
