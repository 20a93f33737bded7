"""POST /webhooks/docusign over real HTTP against real Postgres: what is acknowledged, refused, and stored."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from prometheus_client import REGISTRY

from api.app import create_app
from docusign_agent.settings import Settings
from tests.conftest import DatabaseFactory, role_urls
from tests.webhook_helpers import (
    SimEnvelope,
    SimRecipient,
    make_profile,
    serve,
    sign,
    signed_headers,
    wait_for,
)

NEW_KEY = "new-" + secrets.token_urlsafe(24)
OLD_KEY = "old-" + secrets.token_urlsafe(24)
MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def hook_url(db_factories: dict[str, DatabaseFactory], main_backend: str) -> str:
    return db_factories[main_backend].create()


@pytest.fixture(scope="module")
def hook_settings(settings: Settings, hook_url: str) -> Settings:
    return settings.model_copy(update={"database_url": hook_url, "docusign_connect_hmac_keys": [NEW_KEY, OLD_KEY],
                                       "webhook_max_body_bytes": MAX_BODY})


@pytest.fixture(scope="module")
async def base(hook_settings: Settings, hook_url: str) -> AsyncIterator[str]:
    async with serve(create_app(hook_settings, role_urls(hook_url))) as url:
        yield url


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


def rows(url: str, envelope_id: str) -> list[dict]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute("SELECT * FROM webhook_events WHERE envelope_id = %s OR raw_body LIKE %s ORDER BY id",
                           (envelope_id, f"%{envelope_id}%")).fetchall()


def counter(outcome: str) -> float:
    return REGISTRY.get_sample_value("dsa_webhook_deliveries_total", {"outcome": outcome}) or 0.0


def one_event(account: str = "acct", user: str = "ds-user") -> SimEnvelope:
    env = SimEnvelope(account, user, [SimRecipient("1", "Ann Signer", "ann@example.com")])
    env.send()
    return env


async def test_signed_delivery_is_stored_then_applied(base: str, client: httpx.AsyncClient, hook_url: str) -> None:
    ds_user = f"ds-{uuid.uuid4()}"
    make_profile(hook_url, docusign_user_id=ds_user, account_id="acct")
    env = one_event(user=ds_user)
    body = env.events[0]
    r = await client.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, NEW_KEY))
    assert r.status_code == 200, r.text
    assert r.json()["duplicate"] is False
    stored = rows(hook_url, env.envelope_id)
    assert len(stored) == 1 and stored[0]["raw_body"] == body.decode() and stored[0]["event"] == "envelope-sent"
    assert stored[0]["payload"]["data"]["envelopeId"] == env.envelope_id

    def applied() -> bool:
        return rows(hook_url, env.envelope_id)[0]["status"] == "applied"

    await wait_for(applied, 10)


async def test_forged_and_unsigned_are_refused_and_leave_nothing(base: str, client: httpx.AsyncClient,
                                                                  hook_url: str) -> None:
    env = one_event()
    body = env.events[0]
    bad_before, unsigned_before = counter("bad_signature"), counter("unsigned")
    forged = await client.post(f"{base}/webhooks/docusign", content=body,
                               headers=signed_headers(body, "not-our-key"))
    tampered_body = body.replace(b'"sent"', b'"voided"', 1)
    tampered = await client.post(f"{base}/webhooks/docusign", content=tampered_body,
                                 headers={"X-DocuSign-Signature-1": sign(body, NEW_KEY)})
    unsigned = await client.post(f"{base}/webhooks/docusign", content=body,
                                 headers={"Content-Type": "application/json"})
    garbage = await client.post(f"{base}/webhooks/docusign", content=body,
                                headers={"X-DocuSign-Signature-1": "!!not base64!!"})
    for r in (forged, tampered, unsigned, garbage):
        assert r.status_code == 401
        assert r.json()["error"] == "invalid_signature"
    assert rows(hook_url, env.envelope_id) == []
    assert counter("bad_signature") - bad_before == 3
    assert counter("unsigned") - unsigned_before == 1


async def test_rotated_keys_any_header_any_key(base: str, client: httpx.AsyncClient, hook_url: str) -> None:
    bodies = [one_event().events[0] for _ in range(3)]
    # DocuSign mid-rotation: one header per active key, the first made with a key we no longer have.
    h1 = {"X-DocuSign-Signature-1": sign(bodies[0], "retired-key"), "X-DocuSign-Signature-2": sign(bodies[0], OLD_KEY)}
    h2 = {"X-DocuSign-Signature-1": sign(bodies[1], NEW_KEY)}
    h3 = {"X-DocuSign-Signature-1": sign(bodies[2], "retired"), "X-DocuSign-Signature-2": sign(bodies[2], "other"),
          "X-DocuSign-Signature-3": sign(bodies[2], NEW_KEY)}
    for body, headers in zip(bodies, (h1, h2, h3), strict=True):
        r = await client.post(f"{base}/webhooks/docusign", content=body, headers=headers)
        assert r.status_code == 200, r.text
        assert len(rows(hook_url, json.loads(body)["data"]["envelopeId"])) == 1


async def test_redelivery_is_counted_not_stored_twice(base: str, client: httpx.AsyncClient, hook_url: str) -> None:
    env = one_event()
    body = env.events[0]
    first = await client.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, NEW_KEY))
    # DocuSign's retry bumps retryCount, which changes the bytes but not the event.
    retried = json.loads(body)
    retried["retryCount"] = 1
    retry_body = json.dumps(retried).encode()
    second = await client.post(f"{base}/webhooks/docusign", content=retry_body,
                               headers=signed_headers(retry_body, OLD_KEY))
    third = await client.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, NEW_KEY))
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert [r.json()["duplicate"] for r in (first, second, third)] == [False, True, True]
    assert first.json()["id"] == second.json()["id"] == third.json()["id"]
    stored = rows(hook_url, env.envelope_id)
    assert len(stored) == 1 and stored[0]["deliveries"] == 3


@pytest.mark.parametrize("body", [b'{"event": "envelope-sent", "data": {"envelopeId": "',
                                  b"not json at all", b"\xff\xfe\x00garbage", b'["a list"]'])
async def test_malformed_with_valid_signature_is_kept_as_failed(base: str, client: httpx.AsyncClient, hook_url: str,
                                                                body: bytes) -> None:
    marker = uuid.uuid4().hex.encode()
    body = body + marker
    r = await client.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, NEW_KEY))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "failed"
    stored = rows(hook_url, marker.decode())
    assert len(stored) == 1
    assert stored[0]["status"] == "failed" and stored[0]["last_error"] and stored[0]["payload"] is None
    # The same broken body again is a redelivery, not a second row.
    again = await client.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, NEW_KEY))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert rows(hook_url, marker.decode())[0]["deliveries"] == 2


async def test_json_that_is_not_an_envelope_event_is_kept_as_failed(base: str, client: httpx.AsyncClient,
                                                                    hook_url: str) -> None:
    marker = uuid.uuid4().hex
    body = json.dumps({"event": "envelope-sent", "data": {"accountId": marker}}).encode()
    r = await client.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, NEW_KEY))
    assert r.status_code == 200 and r.json()["status"] == "failed"
    stored = rows(hook_url, marker)
    assert len(stored) == 1 and "envelopeId is missing" in stored[0]["last_error"]


async def test_oversize_is_413_and_nothing_stored(base: str, client: httpx.AsyncClient, hook_url: str) -> None:
    env = one_event()
    doc = json.loads(env.events[0])
    doc["data"]["envelopeSummary"]["emailBlurb"] = "x" * (MAX_BODY + 10)
    body = json.dumps(doc).encode()
    r = await client.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, NEW_KEY))
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"

    async def chunked():  # no Content-Length: the limit is enforced while reading
        for i in range(0, len(body), 8192):
            yield body[i:i + 8192]

    r2 = await client.post(f"{base}/webhooks/docusign", content=chunked(), headers=signed_headers(body, NEW_KEY))
    assert r2.status_code == 413
    assert rows(hook_url, env.envelope_id) == []


async def test_only_post(base: str, client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{base}/webhooks/docusign")).status_code == 405


async def test_concurrent_deliveries_all_stored(base: str, client: httpx.AsyncClient, hook_url: str) -> None:
    envs = [one_event() for _ in range(60)]
    bodies = [e.events[0] for e in envs]
    results = await asyncio.gather(*[
        client.post(f"{base}/webhooks/docusign", content=b, headers=signed_headers(b, NEW_KEY)) for b in bodies + bodies
    ])
    assert all(r.status_code == 200 for r in results)
    with psycopg.connect(hook_url) as conn:
        got = conn.execute("SELECT count(*), sum(deliveries) FROM webhook_events WHERE envelope_id = ANY(%s)",
                           ([e.envelope_id for e in envs],)).fetchone()
    assert got == (60, 120)
