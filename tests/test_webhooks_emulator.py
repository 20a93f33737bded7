"""Real envelope lifecycles in the DocuSign emulator, delivered by its Connect dispatcher (signed, with duplicates
and reordering turned on) to a real server: the mirror ends equal to the emulator's own state. Then every
captured body is replayed into a fresh database, fully shuffled and duplicated, with the same result."""

from __future__ import annotations

import asyncio
import random
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from api.app import create_app
from docusign_agent.settings import Settings
from emulator.standalone import build_standalone_app
from tests.conftest import DatabaseFactory, role_urls
from tests.webhook_helpers import (
    EmulatorAccount,
    emulator_account,
    make_profile,
    mirror_state,
    serve,
    signed_headers,
    wait_for,
)

KEY = "k-" + secrets.token_urlsafe(24)
RECIPIENT_TYPES = {"signer": "signer", "carbonCopy": "carbon_copy"}


@pytest.fixture(scope="module")
async def emulator() -> AsyncIterator[str]:
    async with serve(build_standalone_app()) as base:
        yield f"{base}/_emulator"


async def emulator_truth(acct: EmulatorAccount, envelope_id: str) -> dict[str, Any]:
    state = (await acct.client.get(f"{acct.base}/envelopes/{envelope_id}")).json()
    return {"status": state["status"], "recipients": {r["recipient_id"]: r["status"] for r in state["recipients"]}}


async def drive(acct: EmulatorAccount, rng: random.Random, count: int) -> list[str]:
    """Create and send envelopes from the seeded NDA template, then sign, decline, void or leave each one."""
    templates = (await acct.client.get(f"{acct.rest}/templates", headers=acct.auth)).json()["envelopeTemplates"]
    nda = next(t for t in templates if t["name"] == "Mutual NDA")
    ids = []
    for i in range(count):
        body = {"templateId": nda["templateId"], "status": "sent", "emailSubject": f"NDA {i}",
                "templateRoles": [{"roleName": "Party A", "name": f"Ann {i}", "email": f"ann{i}@example.com"},
                                  {"roleName": "Party B", "name": f"Bob {i}", "email": f"bob{i}@example.com"}],
                "customFields": {"textCustomFields": [{"name": "dsa_request_id", "value": str(uuid.uuid4())}]}}
        r = await acct.client.post(f"{acct.rest}/envelopes", json=body, headers=acct.auth)
        assert r.status_code == 201, r.text
        ids.append(r.json()["envelopeId"])
    for envelope_id in ids:
        fate = rng.random()
        state = (await acct.client.get(f"{acct.base}/envelopes/{envelope_id}")).json()
        signers = sorted((r for r in state["recipients"] if r["kind"] == "signer"), key=lambda r: r["routing_order"])
        if fate < 0.15:
            r = await acct.client.put(f"{acct.rest}/envelopes/{envelope_id}", headers=acct.auth,
                                      json={"status": "voided", "voidedReason": "Wrong counterparty"})
            assert r.status_code == 200, r.text
            continue
        for n, signer in enumerate(signers):
            if fate < 0.3 and n == len(signers) - 1:
                r = await acct.client.post(f"{acct.base}/envelopes/{envelope_id}/decline",
                                           json={"recipient_id": signer["recipient_id"], "reason": "Terms"})
                assert r.status_code == 200, r.text
                break
            if fate < 0.4 and n == 1:
                break  # still waiting on the second signer
            r = await acct.client.post(f"{acct.base}/envelopes/{envelope_id}/sign",
                                       json={"recipient_id": signer["recipient_id"]})
            assert r.status_code == 200, r.text
    return ids


async def idle(acct: EmulatorAccount) -> bool:
    return (await acct.client.get(f"{acct.base}/connect/deliveries")).json()["idle"]


@pytest.mark.slow
async def test_emulator_connect_deliveries_and_full_replay(
        emulator: str, settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str) -> None:
    url = db_factories[main_backend].create()
    app_settings = settings.model_copy(update={"database_url": url, "docusign_connect_hmac_keys": [KEY]})
    rng = random.Random(4242)
    async with httpx.AsyncClient(timeout=60) as client, serve(create_app(app_settings, role_urls(url))) as base:
        acct = await emulator_account(client, emulator, f"hooks-{uuid.uuid4().hex[:6]}@example.com")
        make_profile(url, docusign_user_id=acct.user_id, account_id=acct.account_id)
        r = await client.post(f"{emulator}/config", json={"connect_duplicate_rate": 0.3, "connect_shuffle": True,
                                                          "connect_shuffle_window": 12,
                                                          "rate_limit_per_hour": 1_000_000,
                                                          "burst_limit_per_30s": 1_000_000})
        assert r.status_code == 200, r.text
        r = await client.post(f"{emulator}/connect/hmac_keys", json={"account_id": acct.account_id, "keys": [KEY]})
        assert r.status_code == 200, r.text
        r = await client.post(f"{acct.rest}/connect", headers=acct.auth, json={
            "name": "docusign-agent", "urlToPublishTo": f"{base}/webhooks/docusign", "includeHMAC": "true",
            "allUsers": "true", "eventData": {"version": "restv2.1", "format": "json",
                                              "includeData": ["recipients", "custom_fields"]}})
        assert r.status_code == 201, r.text

        ids = await drive(acct, rng, 40)
        await wait_for(lambda: idle(acct), 120, 0.2)

        def settled() -> bool:
            with psycopg.connect(url) as conn:
                return conn.execute("SELECT count(*) FROM webhook_events WHERE status = 'pending'").fetchone()[0] == 0

        await wait_for(settled, 60)
        truth = {eid: await emulator_truth(acct, eid) for eid in ids}
        assert mirror_state(url, ids) == truth
        log = (await client.get(f"{emulator}/connect/deliveries")).json()["deliveries"]
        acked = [d for d in log if d["status"] == 200 and d["url"].startswith(base)]
        with psycopg.connect(url) as conn:
            rows, deliveries, bad, request_ids = conn.execute(
                "SELECT count(*), sum(deliveries), count(*) FILTER (WHERE status NOT IN ('applied', 'duplicate')), "
                "(SELECT count(request_id) FROM envelopes WHERE envelope_id = ANY(%s)) FROM webhook_events",
                (ids,)).fetchone()
            bodies = [r[0].encode() for r in conn.execute("SELECT raw_body FROM webhook_events").fetchall()]
        assert rows >= 300, "several hundred distinct events"
        assert deliveries == len(acked), "every acknowledged delivery is stored or counted"
        assert deliveries > rows, "the emulator duplicated some deliveries"
        assert bad == 0
        assert request_ids == len(ids)

    # Replay every captured body into a fresh database: fully shuffled, each sent one to three times.
    url2 = db_factories[main_backend].create()
    make_profile(url2, docusign_user_id=acct.user_id, account_id=acct.account_id)
    replay = [b for b in bodies for _ in range(rng.choice((1, 1, 2, 3)))]
    rng.shuffle(replay)
    replay_settings = app_settings.model_copy(update={"database_url": url2})
    async with httpx.AsyncClient(timeout=60) as client, \
            serve(create_app(replay_settings, role_urls(url2))) as base2:
        gate = asyncio.Semaphore(24)

        async def post(body: bytes) -> None:
            async with gate:
                r = await client.post(f"{base2}/webhooks/docusign", content=body, headers=signed_headers(body, KEY))
                assert r.status_code == 200, r.text

        await asyncio.gather(*(post(b) for b in replay))

        def settled2() -> bool:
            with psycopg.connect(url2) as conn:
                return conn.execute("SELECT count(*) FROM webhook_events WHERE status = 'pending'").fetchone()[0] == 0

        await wait_for(settled2, 60)
        assert mirror_state(url2, ids) == truth
        with psycopg.connect(url2) as conn:
            assert conn.execute("SELECT count(*), sum(deliveries) FROM webhook_events").fetchone() == (
                len(bodies), len(replay))
