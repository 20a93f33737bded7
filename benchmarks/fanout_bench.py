"""Streaming fan-out: many idle `/v1/events` clients and many streaming runs at once, with Redis as the bus.

    uv run python -m benchmarks.fanout_bench [--database-url URL] [--redis-url URL] [--idle 1000] [--streaming 200]
        [--users 100] [--seconds 20] [--rate 20]

One `docusign-agent serve` process on Redis. `--idle` clients (spread over `--users` users) open
`GET /v1/events` and wait; then `--streaming` conversations run turns of the trivial graph back to back
(POST /threads/{id}/runs/stream, messages-tuple + values) while marker events are appended `--rate` times a
second to a user's envelope stream in Redis (`XADD`, as another process's Connect worker would publish them).
Reported: the server's RSS before, with the idle clients connected, and at the end (memory per connection),
the delay from each XADD to its arrival on every idle client that subscribes to that user (p50/p99/max), and
the runs' first-byte and turn latencies under that load.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import orjson

from runtime.bus import _DATA, _EVENT
from runtime.webhooks.worker import user_stream
from benchmarks.api_bench import http_phase, start_redis
from benchmarks.loadgen import pct, rss_bytes, tree
from benchmarks.targets import Environment, PrivatePostgres, start_ours


async def idle_client(port: int, token: str, ready: asyncio.Event, arrivals: list[float],
                      stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write((f"GET /v1/events?heartbeat=60 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                  "Accept: text/event-stream\r\n\r\n").encode())
    try:
        while (line := await reader.readline()) not in (b"\r\n", b""):
            pass
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"data:") and b'"stream":"envelopes"' in line:
                ready.set()
            elif b'"sent_at"' in line:
                body = orjson.loads(line[line.index(b"{"):line.rindex(b"}") + 1])
                arrivals.append(time.time() - body["sent_at"])
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--streaming", type=int, default=200)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=20, help="marker events per second, round-robin over users")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="dsa-fanout-"))
    helpers = []
    redis_url = args.redis_url
    if redis_url is None:
        private = start_redis(workdir)
        assert private is not None, "needs --redis-url or redis-server on PATH"
        redis_url = private[0]
        helpers.append(private[1])
    postgres = None
    if args.database_url:
        admin = args.database_url
    else:
        postgres = PrivatePostgres(workdir)
        admin = postgres.url
    env = Environment(admin_url=admin, redis_url=redis_url, workdir=workdir)
    target = start_ours(env, "ours-redis", "ours-redis")
    import redis.asyncio as aioredis

    bus_url = f"{redis_url.rsplit('/', 1)[0]}/{env.redis_dbs}"  # the db number the server was given
    redis = aioredis.Redis.from_url(bus_url)
    stop = asyncio.Event()
    try:
        await http_phase(target, "trivial", 2, 1.0)  # warm up
        pids = tree(target.roots())
        rss_start = rss_bytes(pids)
        users = [(f"fan{u}", env.token(f"fan{u}")) for u in range(args.users)]
        import uuid

        user_ids = [uuid.uuid5(uuid.NAMESPACE_URL, f"bench:{name}") for name, _ in users]
        arrivals: list[list[float]] = [[] for _ in range(args.idle)]
        readies = [asyncio.Event() for _ in range(args.idle)]
        clients = []
        for i in range(args.idle):
            clients.append(asyncio.create_task(idle_client(target.port, users[i % args.users][1], readies[i],
                                                           arrivals[i], stop)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)  # a connection burst, not a SYN flood
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=300)
        await asyncio.sleep(2)
        rss_idle = rss_bytes(tree(target.roots()))
        published = 0

        async def publisher() -> None:
            nonlocal published
            interval = 1 / args.rate
            while not stop.is_set():
                uid = user_ids[published % len(user_ids)]
                data = orjson.dumps({"envelope_id": f"marker-{published}", "sent_at": time.time()})
                await redis.xadd(user_stream(uid), {_EVENT: b"envelope", _DATA: data}, maxlen=1000,
                                 approximate=True)
                published += 1
                await asyncio.sleep(interval)

        pub = asyncio.create_task(publisher())
        turns, errors, elapsed = await http_phase(target, "trivial", args.streaming, args.seconds)
        rss_end = rss_bytes(tree(target.roots()))
        await asyncio.sleep(1)
        stop.set()
        pub.cancel()
        delays = [d for per in arrivals for d in per]
        per_user = args.idle / args.users
        print(f"server RSS: {rss_start / 2**20:.0f} MB at rest, {rss_idle / 2**20:.0f} MB with {args.idle} idle "
              f"/v1/events streams ({(rss_idle - rss_start) / args.idle / 1024:.1f} KB each), "
              f"{rss_end / 2**20:.0f} MB with {args.streaming} streaming runs as well")
        print(f"marker events: {published} published, {len(delays)} deliveries "
              f"(expected ~{published * per_user:.0f}); delay p50 {pct(delays, 0.5):.1f} ms, "
              f"p99 {pct(delays, 0.99):.1f} ms, max {max(delays) * 1000 if delays else float('nan'):.1f} ms")
        print(f"runs: {len(turns)} turns in {elapsed:.1f}s ({len(turns) / elapsed:.1f}/s), errors {errors}; "
              f"first byte p50 {pct([t.first_byte for t in turns], 0.5):.1f} ms, "
              f"p99 {pct([t.first_byte for t in turns], 0.99):.1f} ms; turn p50 "
              f"{pct([t.total for t in turns], 0.5):.1f} ms, p99 {pct([t.total for t in turns], 0.99):.1f} ms")
        for task in clients:
            task.cancel()
    finally:
        stop.set()
        await redis.aclose()
        target.stop()
        for proc in helpers:
            proc.terminate()
        env.drop()
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    asyncio.run(main())
