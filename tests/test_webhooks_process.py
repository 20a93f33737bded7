"""A server killed with SIGKILL after acknowledging an event and before applying it: the event survives, and the
next server process applies it. Real processes, real HTTP, real Postgres."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import DatabaseFactory
from tests.webhook_helpers import SimEnvelope, SimRecipient, free_port, make_profile, signed_headers, wait_for

KEY = "k-" + secrets.token_urlsafe(24)


def start_server(url: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "AUTH_", "PORT"))}
    env.update({"DATABASE_URL": url, "DOCUSIGN_CONNECT_HMAC_KEYS": KEY, "DATA_DIR": str(tmp_path / "data"),
                "AUTH_JWT_SECRET": "s-" + secrets.token_hex(16), "PORT": str(port), "HOST": "127.0.0.1"})
    log = open(tmp_path / f"server-{port}.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve"], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((tmp_path / f"server-{port}.log").read_text())
        try:
            if httpx.get(f"{base}/ok", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise TimeoutError("server did not start")


def event_status(url: str, envelope_id: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT status FROM webhook_events WHERE envelope_id = %s", (envelope_id,)).fetchone()
    return row[0] if row else None


@pytest.mark.slow
async def test_sigkill_between_store_and_apply(db_factories: dict[str, DatabaseFactory], main_backend: str,
                                               tmp_path: Path) -> None:
    url = db_factories[main_backend].create()
    ds_user = str(uuid.uuid4())
    make_profile(url, docusign_user_id=ds_user, account_id="acct")
    sim = SimEnvelope("acct", ds_user, [SimRecipient("1", "A", "a@example.com")])
    sim.send()
    body = sim.events[0]

    # Hold the envelope's apply lock, so the first server's worker claims the event and then waits for us.
    blocker = psycopg.connect(url, autocommit=True)
    blocker.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (sim.envelope_id,))
    first, base = start_server(url, tmp_path)
    try:
        r = httpx.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, KEY), timeout=30)
        assert r.status_code == 200  # acknowledged: durably stored

        def worker_is_applying() -> bool:
            with psycopg.connect(url) as conn:
                return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                    "AND query LIKE '%pg_advisory_xact_lock%' AND datname = current_database()"
                                    ).fetchone()[0] > 0

        await wait_for(worker_is_applying, 30)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    blocker.close()  # the dead server's transaction now fails and rolls back

    def back_to_pending() -> bool:
        with psycopg.connect(url) as conn:
            busy = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND application_name LIKE 'docusign-agent%'").fetchone()[0]
        return busy == 0 and event_status(url, sim.envelope_id) == "pending"

    await wait_for(back_to_pending, 30)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM envelopes WHERE envelope_id = %s", (sim.envelope_id,)
                            ).fetchone()[0] == 0

    second, _ = start_server(url, tmp_path)
    try:
        await wait_for(lambda: event_status(url, sim.envelope_id) == "applied", 30)
        with psycopg.connect(url) as conn:
            status, attempts = conn.execute(
                "SELECT e.status, w.attempts FROM envelopes e JOIN webhook_events w USING (envelope_id) "
                "WHERE e.envelope_id = %s", (sim.envelope_id,)).fetchone()
        assert (status, attempts) == ("sent", 1)
    finally:
        second.terminate()
        try:
            second.wait(20)
        except subprocess.TimeoutExpired:
            second.kill()


@pytest.mark.slow
async def test_two_server_processes_share_the_work(db_factories: dict[str, DatabaseFactory], main_backend: str,
                                                   tmp_path: Path) -> None:
    """Deliveries spread over two `serve` processes on one database: every event is applied exactly once (one
    attempt, by one worker) and the mirror ends equal to the true state."""
    import asyncio
    import random

    from tests.webhook_helpers import lifecycle, mirror_state

    url = db_factories[main_backend].create()
    ds_user = str(uuid.uuid4())
    make_profile(url, docusign_user_id=ds_user, account_id="acct")
    rng = random.Random(7)
    envs = [lifecycle("acct", ds_user, rng) for _ in range(25)]
    bodies = [b for e in envs for b in e.events]
    rng.shuffle(bodies)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    (first, base_a), (second, base_b) = start_server(url, tmp_path / "a"), start_server(url, tmp_path / "b")
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            async def deliver(i: int, body: bytes) -> int:
                base = base_a if i % 2 else base_b
                r = await client.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, KEY))
                return r.status_code
            assert set(await asyncio.gather(*(deliver(i, b) for i, b in enumerate(bodies)))) == {200}

        ids = [e.envelope_id for e in envs]

        def settled() -> bool:
            with psycopg.connect(url) as conn:
                return conn.execute("SELECT count(*) FROM webhook_events WHERE status = 'pending'").fetchone()[0] == 0

        await wait_for(settled, 60)
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT count(*), count(*) FILTER (WHERE attempts = 1 AND status IN "
                                "('applied', 'duplicate')) FROM webhook_events").fetchone()
            audits, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT arguments->>'webhook_event_id') FROM audit_log "
                "WHERE actor = 'webhook'").fetchone()
        assert rows == (len(bodies), len(bodies))  # every event processed in one attempt
        assert audits == distinct > 0  # no event's change was recorded (applied) twice
        assert mirror_state(url, ids) == {e.envelope_id: e.truth() for e in envs}
    finally:
        for proc in (first, second):
            proc.terminate()
        for proc in (first, second):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
