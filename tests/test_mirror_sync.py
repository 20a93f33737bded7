"""Reconciliation, end to end: Connect fails through DocuSign's retries (in miniature), the mirror is stale,
`docusign-agent mirror sync` asks DocuSign for status changes since the last sync, and the running server's
worker repairs the mirror; the chat page's live stream (`/v1/events`) gets the change. Real emulator over HTTP,
real SDK, real Postgres, the CLI as a subprocess."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from api.app import create_app
from api.auth import issue_token
from db import mirror
from db.session import Database
from docusign_agent.settings import Settings
from emulator.standalone import build_standalone_app
from runtime.webhooks.reconcile import POLL_OVERLAP, MirrorSync
from tests.conftest import REPO, DatabaseFactory, role_urls
from tests.servers import free_port
from tests.webhook_helpers import listen_for_envelopes, make_profile, send_nda, serve, sign_all, wait_for

KEY = "k-" + secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
async def emulator() -> AsyncIterator[str]:
    async with serve(build_standalone_app()) as base:
        yield f"{base}/_emulator"


def mirror_sync(settings: Settings, url: str, emulator: str, email: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PORT"))},
           "DATABASE_URL": url, "DATA_DIR": str(settings.data_dir), "DOCUSIGN_EMULATOR_URL": emulator,
           "AUTH_JWT_SECRET": str(settings.auth_jwt_secret), "MIRROR_SYNC_SECONDS": "0"}
    return subprocess.run([sys.executable, "-m", "cli.main", "mirror", "sync", "--user", email], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=240)


def mirror_status(url: str, envelope_id: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT status FROM envelopes WHERE envelope_id = %s", (envelope_id,)).fetchone()
    return row[0] if row else None


@pytest.mark.slow
async def test_lost_connect_delivery_heals_by_sync(emulator: str, settings: Settings,
                                                   db_factories: dict[str, DatabaseFactory], main_backend: str) -> None:
    url = db_factories[main_backend].create()
    port = free_port()
    app_settings = settings.model_copy(update={
        "database_url": url, "docusign_connect_hmac_keys": [KEY], "docusign_emulator_url": emulator, "port": port,
        "mirror_sync_seconds": 0})
    email = f"sync-{uuid.uuid4().hex[:6]}@example.com"
    user = make_profile(url, email=email)
    app = create_app(app_settings, role_urls(url))
    async with serve(app, port) as base, httpx.AsyncClient(timeout=60) as http:
        database: Database = app.state.database
        client = await app.state.docusign_clients.for_user(user)  # provisions, and points Connect at `base`
        # DocuSign's retry schedule in miniature: a few quick retries, then Connect gives up.
        r = await http.post(f"{emulator}/config", json={"connect_retry_base_seconds": 0.05, "connect_max_retries": 2})
        assert r.status_code == 200, r.text

        frames: list[dict[str, Any]] = []
        ready = asyncio.Event()
        token = issue_token(app_settings, user, email)

        listener = asyncio.create_task(listen_for_envelopes(http, base, token, frames, ready))
        await asyncio.wait_for(ready.wait(), 30)

        envelope_id, _ = await send_nda(client, database, user, "NDA (sync)")

        # Connect goes down (our receiver refuses every delivery: the account signs with a key we do not know),
        # and the envelope completes in DocuSign meanwhile.
        r = await http.post(f"{emulator}/connect/hmac_keys", json={"account_id": client.account_id,
                                                                   "keys": ["not-our-key"]})
        assert r.status_code == 200, r.text
        await sign_all(http, emulator, envelope_id)

        async def given_up() -> list[dict[str, Any]] | None:
            log = (await http.get(f"{emulator}/connect/deliveries")).json()["deliveries"]
            completed = [d for d in log if d["envelope_id"] == envelope_id and d["event"] == "envelope-completed"]
            return completed if any(d["abandoned"] for d in completed) else None

        attempts = await wait_for(given_up, 60)
        assert [(d["status"], d["retry_count"]) for d in attempts] == [(401, 0), (401, 1), (401, 2)]
        assert mirror_status(url, envelope_id) != "completed"  # the mirror is stale: Connect gave up

        result = await asyncio.to_thread(mirror_sync, app_settings, url, emulator, email)
        assert result.returncode == 0, result.stderr
        assert "not seen before" in result.stdout and "queued" in result.stdout, result.stdout

        await wait_for(lambda: mirror_status(url, envelope_id) == "completed", 60)  # the server applied it
        await asyncio.wait_for(listener, 60)  # ...and the live stream showed it
        assert frames[-1]["envelope_id"] == envelope_id and frames[-1]["status"] == "completed"
        async with database.user_session(user) as session:
            found = await mirror.get_envelope(session, envelope_id)
        assert found is not None and {r.status for r in found.recipients} == {"completed"}
        with psycopg.connect(url) as conn:
            (polled_at, from_date, count), = conn.execute(
                "SELECT polled_at, from_date, envelopes FROM mirror_syncs WHERE account_id = %s",
                (client.account_id,)).fetchall()
            audited = conn.execute("SELECT count(*) FROM audit_log WHERE envelope_id = %s AND operation = "
                                   "'webhook:envelope-reconciled'", (envelope_id,)).fetchone()[0]
        assert count >= 1 and audited == 1
        assert from_date == polled_at - POLL_OVERLAP  # the next poll asks from a little before this one

        # The same state read again is the same event: nothing new, nothing applied twice.
        service = app.state.webhooks
        again = await service.sync.sync_all(email)
        assert [(r.polled, r.new, r.error) for r in again] == [(True, 0, None)]
        assert again[0].from_date == from_date
        # DocuSign's polling limit: with its 15 minutes, a poll right after another is refused, and says when.
        limited = await MirrorSync(service.pool, app.state.docusign_clients, service.store,
                                   gap_seconds=900).sync_all(email)
        assert [r.polled for r in limited] == [False]
        assert limited[0].next_poll_at is not None and limited[0].next_poll_at > dt.datetime.now(dt.UTC)
