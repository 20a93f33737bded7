"""The worker and the mirror: ordering, duplicates, owners, bulk counters, audit, retries, and the /v1 routes."""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.auth import issue_token
from runtime.webhooks.parse import classify
from runtime.webhooks.service import WebhookService, create_pool
from runtime.webhooks.worker import WebhookWorker
from db import mirror
from db.session import Database
from docusign_agent.settings import Settings
from tests.conftest import DatabaseFactory, role_urls
from tests.webhook_helpers import (
    SimEnvelope,
    SimRecipient,
    lifecycle,
    make_profile,
    mirror_state,
    serve,
    signed_headers,
    sse_frames,
    wait_for,
)

KEY = "k-" + secrets.token_urlsafe(24)


@dataclass
class Server:
    base: str
    app: FastAPI
    url: str  # owner URL of its database
    settings: Settings
    client: httpx.AsyncClient

    async def deliver(self, body: bytes) -> httpx.Response:
        r = await self.client.post(f"{self.base}/webhooks/docusign", content=body, headers=signed_headers(body, KEY))
        assert r.status_code == 200, r.text
        return r

    async def deliver_all(self, bodies: list[bytes], concurrency: int = 16) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(body: bytes) -> None:
            async with gate:
                await self.deliver(body)

        await asyncio.gather(*(one(b) for b in bodies))

    def query(self, sql: str, *params: Any) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, params).fetchall()

    async def settled(self, timeout: float = 60) -> None:
        await wait_for(lambda: self.query("SELECT count(*) FROM webhook_events WHERE status = 'pending'")[0][0] == 0,
                       timeout)

    def auth(self, user: uuid.UUID) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(self.settings, user, f'{user}@example.com')}"}


@pytest.fixture(scope="module")
async def server(settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str
                 ) -> AsyncIterator[Server]:
    url = db_factories[main_backend].create()
    app_settings = settings.model_copy(update={"database_url": url, "docusign_connect_hmac_keys": [KEY],
                                               "webhook_max_attempts": 2})
    app = create_app(app_settings, role_urls(url))
    async with serve(app) as base, httpx.AsyncClient(timeout=60) as client:
        yield Server(base, app, url, app_settings, client)


def new_user(server: Server) -> tuple[uuid.UUID, str, str]:
    ds_user, account = str(uuid.uuid4()), str(uuid.uuid4())
    user = make_profile(server.url, docusign_user_id=ds_user, account_id=account)
    return user, ds_user, account


def with_duplicates(bodies: list[bytes], rng: random.Random, rate: float = 0.3) -> list[bytes]:
    """Redeliveries as DocuSign makes them: identical bytes, or the same event with retryCount bumped."""
    out = list(bodies)
    for body in bodies:
        if rng.random() < rate:
            doc = json.loads(body)
            doc["retryCount"] = rng.randint(1, 3)
            out.append(body if rng.random() < 0.5 else json.dumps(doc).encode())
    rng.shuffle(out)
    return out


async def test_shuffled_duplicated_replay_converges_on_the_true_state(server: Server) -> None:
    rng = random.Random(20260101)
    user, ds_user, account = new_user(server)
    envs = [lifecycle(account, ds_user, rng) for _ in range(60)]
    originals = [b for e in envs for b in e.events]
    deliveries = with_duplicates(originals, rng)
    assert len(originals) >= 300
    await server.deliver_all(deliveries)
    await server.settled()

    ids = [e.envelope_id for e in envs]
    assert mirror_state(server.url, ids) == {e.envelope_id: e.truth() for e in envs}
    rows = server.query("SELECT count(*), sum(deliveries), count(*) FILTER (WHERE status NOT IN ('applied', "
                        "'duplicate')) FROM webhook_events WHERE envelope_id = ANY(%s)", ids)[0]
    assert rows == (len(originals), len(deliveries), 0)  # nothing lost, every redelivery counted
    owners = server.query("SELECT DISTINCT user_id FROM envelopes WHERE envelope_id = ANY(%s)", ids)
    assert owners == [(user,)]
    # Every status change is in the audit trail, attributed to the webhook.
    audited = server.query("SELECT count(DISTINCT envelope_id), min(actor), max(actor) FROM audit_log "
                           "WHERE envelope_id = ANY(%s)", ids)[0]
    assert audited == (len(envs), "webhook", "webhook")


async def test_late_older_events_never_move_status_backwards(server: Server) -> None:
    _, ds_user, account = new_user(server)
    env = SimEnvelope(account, ds_user, [SimRecipient("1", "A", "a@example.com"), SimRecipient("2", "B", "b@example.com")])
    env.send()
    env.sign(env.recipients[0])
    env.sign(env.recipients[1])
    assert env.status == "completed"
    *older, last = env.events
    await server.deliver(last)  # the completion arrives first
    await server.settled()
    for body in reversed(older):  # then everything before it, newest first
        await server.deliver(body)
    await server.settled()
    assert mirror_state(server.url, [env.envelope_id]) == {env.envelope_id: env.truth()}

    # A delivery that claims a later time but a non-terminal status cannot reopen a completed envelope.
    doc = json.loads(env.events[0])
    doc["generatedDateTime"] = "2999-01-01T00:00:00.0000000Z"
    doc["data"]["envelopeSummary"]["statusChangedDateTime"] = "2999-01-01T00:00:00.0000000Z"
    await server.deliver(json.dumps(doc).encode())
    await server.settled()
    assert mirror_state(server.url, [env.envelope_id])[env.envelope_id]["status"] == "completed"


async def test_same_event_regenerated_is_marked_duplicate(server: Server) -> None:
    _, ds_user, account = new_user(server)
    env = SimEnvelope(account, ds_user, [SimRecipient("1", "A", "a@example.com")])
    env.send()
    first = env.events[0]
    doc = json.loads(first)
    doc["generatedDateTime"] = doc["generatedDateTime"][:-3] + "99Z"  # same data, a new delivery time
    await server.deliver(first)
    await server.settled()
    await server.deliver(json.dumps(doc).encode())
    await server.settled()
    statuses = server.query("SELECT status FROM webhook_events WHERE envelope_id = %s ORDER BY id", env.envelope_id)
    assert statuses == [("applied",), ("duplicate",)]


async def test_unknown_envelope_is_unmatched_then_rematched_when_the_agent_records_it(server: Server) -> None:
    user = make_profile(server.url)  # no DocuSign identity linked yet
    env = SimEnvelope("acct-x", "ds-nobody", [SimRecipient("1", "A", "a@example.com")], request_id=str(uuid.uuid4()))
    env.send()
    env.sign(env.recipients[0])
    await server.deliver_all(env.events)
    await server.settled()
    statuses = {s for (s,) in server.query("SELECT status FROM webhook_events WHERE envelope_id = %s",
                                           env.envelope_id)}
    assert statuses == {"unmatched"}
    assert mirror_state(server.url, [env.envelope_id]) == {}

    database: Database = server.app.state.database
    async with database.user_session(user) as session:
        recorded = await mirror.record_sent_envelope(
            session, user, envelope_id=env.envelope_id, account_id="acct-x", status="sent",
            email_subject=env.subject, request_id=env.request_id,
            recipients=[{"recipientId": "1", "type": "signer", "name": "A", "email": "a@example.com",
                         "routingOrder": 1}])
    assert recorded.status == "sent" and recorded.recipients[0].status == "sent"

    async def applied() -> bool:
        return {s for (s,) in server.query("SELECT status FROM webhook_events WHERE envelope_id = %s",
                                           env.envelope_id)} <= {"applied", "duplicate"}

    await wait_for(applied, 15)
    async with database.user_session(user) as session:
        found = await mirror.get_envelope(session, env.envelope_id)
    assert found is not None and found.status == "completed" and found.request_id == env.request_id
    assert [(r.recipient_id, r.status) for r in found.recipients] == [("1", "completed")]
    assert found.last_event_at is not None and found.age_seconds is not None


async def test_request_id_custom_field_finds_the_owner_of_a_bulk_copy(server: Server) -> None:
    user = make_profile(server.url)
    request_id = str(uuid.uuid4())
    database: Database = server.app.state.database
    async with database.user_session(user) as session:
        await mirror.record_sent_envelope(session, user, envelope_id=str(uuid.uuid4()), account_id="acct-y",
                                          request_id=request_id)
    copy = SimEnvelope("acct-y", "ds-other", [SimRecipient("1", "A", "a@example.com")], request_id=request_id)
    copy.send()
    await server.deliver_all(copy.events)
    await server.settled()
    assert server.query("SELECT user_id, status FROM envelopes WHERE envelope_id = %s", copy.envelope_id) == [
        (user, "sent")]


async def test_bulk_rows_and_counters_follow_their_envelopes(server: Server) -> None:
    user, ds_user, account = new_user(server)
    envs = [SimEnvelope(account, ds_user, [SimRecipient("1", f"R{i}", f"r{i}@example.com")]) for i in range(4)]
    op = uuid.uuid4()
    with psycopg.connect(server.url) as conn:
        conn.execute("INSERT INTO bulk_operations (id, user_id, batch_name, template_id, batch_id, status, total, "
                     "queued) VALUES (%s, %s, 'Q1 renewals', 'tpl', %s, 'sending', 4, 4)", (op, user, str(uuid.uuid4())))
        for i, e in enumerate(envs):
            conn.execute("INSERT INTO bulk_recipients (operation_id, user_id, row_number, name, email, envelope_id) "
                         "VALUES (%s, %s, %s, %s, %s, %s)", (op, user, i + 1, f"R{i}", f"r{i}@example.com",
                                                             e.envelope_id))
    for e in envs:
        e.send()
    envs[0].sign(envs[0].recipients[0])
    envs[1].sign(envs[1].recipients[0])
    envs[2].decline(envs[2].recipients[0])
    await server.deliver_all([b for e in envs for b in e.events])
    await server.settled()
    counters = server.query("SELECT status, queued, sent, delivered, completed, declined FROM bulk_operations "
                            "WHERE id = %s", op)[0]
    assert counters == ("sending", 0, 4, 3, 2, 1)
    rows = dict(server.query("SELECT envelope_id, status FROM bulk_recipients WHERE operation_id = %s", op))
    assert rows == {envs[0].envelope_id: "completed", envs[1].envelope_id: "completed",
                    envs[2].envelope_id: "declined", envs[3].envelope_id: "sent"}
    envs[3].sign(envs[3].recipients[0])
    await server.deliver_all(envs[3].events[-3:])
    await server.settled()
    assert server.query("SELECT status, completed FROM bulk_operations WHERE id = %s", op) == [("completed", 3)]


async def test_unexpected_failures_are_retried_then_parked(server: Server) -> None:
    _, ds_user, account = new_user(server)
    env = SimEnvelope(account, ds_user, [SimRecipient("1", "A", "a@example.com", routing_order=99_999_999_999)])
    env.send()
    await server.deliver(env.events[0])  # a routing order that does not fit the column: fails every time

    def parked() -> bool:
        return server.query("SELECT status FROM webhook_events WHERE envelope_id = %s", env.envelope_id) == [
            ("parked",)]

    await wait_for(parked, 20)
    attempts, error = server.query("SELECT attempts, last_error FROM webhook_events WHERE envelope_id = %s",
                                   env.envelope_id)[0]
    assert attempts == 2 and "99999999999" in error
    # The envelope itself was not half-written: the event's savepoint rolled back.
    assert mirror_state(server.url, [env.envelope_id]) == {}


async def test_missing_status_is_failed_with_a_clear_error(server: Server) -> None:
    _, ds_user, account = new_user(server)
    env = SimEnvelope(account, ds_user, [SimRecipient("1", "A", "a@example.com")])
    env.send()
    doc = json.loads(env.events[0])
    doc["event"] = "envelope-corrected"
    doc["data"].pop("envelopeSummary")
    worker = server.app.state.webhooks.worker
    fetch, worker.fetch_envelope = worker.fetch_envelope, None  # a process with no DocuSign client to ask
    try:
        await server.deliver(json.dumps(doc).encode())
        await server.settled()
    finally:
        worker.fetch_envelope = fetch
    status, error = server.query("SELECT status, last_error FROM webhook_events WHERE envelope_id = %s",
                                 env.envelope_id)[0]
    assert status == "failed" and "carries no envelope status" in error


async def test_v1_envelopes_list_get_and_isolation(server: Server) -> None:
    user, ds_user, account = new_user(server)
    _other, other_ds, other_account = new_user(server)
    rng = random.Random(7)
    mine = [lifecycle(account, ds_user, rng) for _ in range(7)]
    theirs = lifecycle(other_account, other_ds, rng)
    await server.deliver_all([b for e in [*mine, theirs] for b in e.events])
    await server.settled()
    headers = server.auth(user)
    got = (await server.client.get(f"{server.base}/v1/envelopes", headers=headers, params={"limit": 3})).json()
    assert got["total"] == 7 and len(got["envelopes"]) == 3 and got["next_offset"] == 3
    seen = {e["envelope_id"] for e in got["envelopes"]}
    while got["next_offset"] is not None:
        got = (await server.client.get(f"{server.base}/v1/envelopes", headers=headers,
                                       params={"limit": 3, "offset": got["next_offset"]})).json()
        seen |= {e["envelope_id"] for e in got["envelopes"]}
    assert seen == {e.envelope_id for e in mine}
    completed = {e.envelope_id for e in mine if e.status == "completed"}
    filtered = (await server.client.get(f"{server.base}/v1/envelopes", headers=headers,
                                        params={"status": "completed"})).json()
    assert {e["envelope_id"] for e in filtered["envelopes"]} == completed
    bad = await server.client.get(f"{server.base}/v1/envelopes", headers=headers, params={"status": "finished"})
    assert bad.status_code == 422 and bad.json()["field"] == "status"

    one = (await server.client.get(f"{server.base}/v1/envelopes/{mine[0].envelope_id}", headers=headers)).json()
    assert one["status"] == mine[0].status and one["synced_at"] and one["last_event_at"]
    assert {r["recipient_id"]: r["status"] for r in one["recipients"]} == mine[0].truth()["recipients"]
    hidden = await server.client.get(f"{server.base}/v1/envelopes/{theirs.envelope_id}", headers=headers)
    assert hidden.status_code == 404
    assert (await server.client.get(f"{server.base}/v1/envelopes/{uuid.uuid4()}", headers=headers)).status_code == 404
    assert (await server.client.get(f"{server.base}/v1/envelopes")).status_code == 401


async def test_events_stream_delivers_updates_and_resumes(server: Server) -> None:
    user, ds_user, account = new_user(server)
    env = SimEnvelope(account, ds_user, [SimRecipient("1", "A", "a@example.com")])
    env.send()
    ready = asyncio.Event()

    async def listen(last_id: str | None, stop: Any) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        headers = server.auth(user) | ({"Last-Event-ID": last_id} if last_id else {})
        async with server.client.stream("GET", f"{server.base}/v1/events", headers=headers,
                                        params={"heartbeat": 1}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for frame in sse_frames(response):
                if frame.get("event") == "ready":
                    ready.set()
                    continue
                frames.append(frame)
                if stop(frames):
                    return frames
        return frames

    listener = asyncio.create_task(listen(None, lambda f: len(f) >= 1))
    await asyncio.wait_for(ready.wait(), 10)  # `ready` is sent once the subscription is open
    sent = len(env.events)
    for body in env.events:
        await server.deliver(body)
    first = (await asyncio.wait_for(listener, 20))[0]
    assert first["event"] == "envelope" and first["id"]
    data = json.loads(first["data"])
    assert data["envelope_id"] == env.envelope_id and data["status"] == "sent"

    env.sign(env.recipients[0])  # more changes while nobody listens
    for body in env.events[sent:]:
        await server.deliver(body)
    await server.settled()

    def completed(frames: list[dict[str, Any]]) -> bool:
        return any(json.loads(f["data"]).get("status") == "completed" for f in frames)

    resumed = await asyncio.wait_for(listen(first["id"], completed), 20)  # after the last id seen
    assert first["id"] not in {f["id"] for f in resumed}
    assert all(f["event"] == "envelope" for f in resumed)
    assert completed(resumed)


async def test_two_workers_apply_each_event_exactly_once(
        settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str) -> None:
    url = db_factories[main_backend].create()
    urls = role_urls(url)
    database = Database(urls, pool_size=2)
    app_settings = settings.model_copy(update={"database_url": url, "docusign_connect_hmac_keys": [KEY]})
    store = WebhookService(app_settings, database, worker=False)
    await store.start()
    rng = random.Random(99)
    ds_user, account = str(uuid.uuid4()), str(uuid.uuid4())
    make_profile(url, docusign_user_id=ds_user, account_id=account)
    envs = [lifecycle(account, ds_user, rng) for _ in range(50)]
    bodies = [b for e in envs for b in e.events]
    rng.shuffle(bodies)
    for body in bodies:
        await store.store(classify(body), body.decode())
    pools = [await create_pool(urls.webhook, 4), await create_pool(urls.webhook, 4)]
    for pool in pools:  # connected before either starts, so neither gets a head start
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
    workers = [WebhookWorker(pool, batch_size=5, name=f"w{i}") for i, pool in enumerate(pools)]
    try:
        for w in workers:
            w.start()

        # The exact condition: the workers have counted every event. A worker counts a batch only after it
        # committed it, so "nothing is pending in the database" comes true before the last count does.
        await wait_for(lambda: sum(w.stats.processed for w in workers) >= len(bodies), 120)
        for w in workers:  # stopped: nothing can be counted after the shares are read
            await w.stop()
        shares = [w.stats.processed for w in workers]
        assert all(shares), f"both workers took a share: {shares}"
        assert sum(shares) == len(bodies)  # together they finished each event once...
        with psycopg.connect(url) as conn:  # ...and no event was finished twice (each finish counts an attempt)
            assert conn.execute("SELECT count(*) FROM webhook_events WHERE status = 'pending'").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM webhook_events WHERE attempts <> 1").fetchone()[0] == 0
            per_event = conn.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM audit_log "
                                     "GROUP BY arguments->>'webhook_event_id') t").fetchone()[0]
            assert per_event == 1
        assert mirror_state(url, [e.envelope_id for e in envs]) == {e.envelope_id: e.truth() for e in envs}
    finally:
        for w in workers:
            await w.stop()
        for pool in pools:
            await pool.close()
        await store.stop()
        await database.dispose()
