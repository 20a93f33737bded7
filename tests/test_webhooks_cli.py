"""`docusign-agent webhooks list|replay|discard`, as an operator runs them, against real Postgres."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg

from runtime.webhooks.service import create_pool
from runtime.webhooks.worker import WebhookWorker
from docusign_agent.settings import Settings
from tests.conftest import DatabaseFactory, role_urls
from tests.test_cli import base_env, cli
from tests.webhook_helpers import SimEnvelope, SimRecipient, make_profile


def insert(url: str, body: bytes, status: str, error: str | None, envelope_id: str | None) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "INSERT INTO webhook_events (dedupe_key, event, envelope_id, raw_body, payload, status, last_error, attempts) "
            "VALUES (%s, 'envelope-sent', %s, %s, %s, %s, %s, 5) RETURNING id",
            (uuid.uuid4().hex, envelope_id, body.decode(), None, status, error)).fetchone()[0]


def status_of(url: str, event_id: int) -> tuple[str, int]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT status, attempts FROM webhook_events WHERE id = %s", (event_id,)).fetchone()


async def test_list_replay_discard(settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str,
                                   tmp_path: Path) -> None:
    url = db_factories[main_backend].create()
    env = base_env(tmp_path, DATABASE_URL=url)
    ds_user = str(uuid.uuid4())
    make_profile(url, docusign_user_id=ds_user, account_id="acct")
    sim = SimEnvelope("acct", ds_user, [SimRecipient("1", "A", "a@example.com")])
    sim.send()
    parked = insert(url, sim.events[0], "parked", "OperationalError: server closed the connection", sim.envelope_id)
    failed = insert(url, b"{broken", "failed", "malformed JSON: unexpected end", None)
    unmatched = insert(url, sim.events[1], "unmatched", "envelope x is not known", sim.envelope_id)

    listed = cli("webhooks", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    for event_id in (parked, failed, unmatched):
        assert str(event_id) in listed.stdout
    assert "malformed JSON" in listed.stdout and "parked 1" in listed.stdout
    as_json = cli("webhooks", "list", "--status", "parked", "--json", env=env)
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [r["id"] for r in rows] == [parked]

    replayed = cli("webhooks", "replay", str(parked), env=env)
    assert replayed.returncode == 0 and "queued again (was parked)" in replayed.stdout
    assert status_of(url, parked) == ("pending", 0)
    discarded = cli("webhooks", "discard", str(failed), env=env)
    assert discarded.returncode == 0 and "discarded (was failed)" in discarded.stdout
    assert status_of(url, failed)[0] == "discarded"
    remaining = [json.loads(line)["id"] for line in cli("webhooks", "list", "--json", env=env).stdout.splitlines()]
    assert sorted(remaining) == sorted([unmatched])

    # A worker picks up the replayed event and applies it.
    pool = await create_pool(role_urls(url).webhook, 2)
    try:
        assert await WebhookWorker(pool).drain() == 1
    finally:
        await pool.close()
    assert status_of(url, parked)[0] == "applied"

    again = cli("webhooks", "replay", str(parked), env=env)
    assert again.returncode == 1 and "is applied" in again.stderr
    missing = cli("webhooks", "discard", "987654321", env=env)
    assert missing.returncode == 1 and "no webhook event 987654321" in missing.stderr
    bad = cli("webhooks", "list", "--status", "lost", env=env)
    assert bad.returncode == 2 and "--status" in bad.stderr
