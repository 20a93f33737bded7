"""Database outages: nothing is acknowledged that was not stored, and deliveries succeed again afterwards."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import psycopg

from api.app import create_app
from docusign_agent.settings import Settings
from tests.conftest import DatabaseFactory, role_urls
from tests.webhook_helpers import PgProxy, SimEnvelope, SimRecipient, serve, signed_headers

KEY = "k-" + secrets.token_urlsafe(24)


def body_for(i: int) -> tuple[str, bytes]:
    env = SimEnvelope("acct", "ds-unknown", [SimRecipient("1", f"Signer {i}", f"s{i}@example.com")])
    env.send()
    return env.envelope_id, env.events[0]


def stored(url: str, envelope_ids: list[str]) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT envelope_id, deliveries FROM webhook_events WHERE envelope_id = ANY(%s)",
                                 (envelope_ids,)).fetchall())


async def test_database_gone_means_503_and_nothing_acknowledged(
        settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str) -> None:
    url = db_factories[main_backend].create()
    proxy = PgProxy(url)
    await proxy.start()
    app_settings = settings.model_copy(update={"database_url": proxy.proxied(), "docusign_connect_hmac_keys": [KEY]})
    async with serve(create_app(app_settings, role_urls(proxy.proxied()))) as base, \
            httpx.AsyncClient(timeout=30) as client:

        async def deliver(body: bytes) -> int:
            r = await client.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, KEY))
            return r.status_code

        first_id, first = body_for(0)
        assert await deliver(first) == 200

        # A burst, with the database cut in the middle of it.
        burst = [body_for(i) for i in range(1, 121)]
        tasks = [asyncio.create_task(deliver(b)) for _, b in burst[:60]]
        await asyncio.sleep(0.05)
        await proxy.stop()
        tasks += [asyncio.create_task(deliver(b)) for _, b in burst[60:]]
        codes = await asyncio.gather(*tasks)
        assert set(codes) <= {200, 503}
        assert 503 in codes
        acknowledged = [eid for (eid, _), code in zip(burst, codes, strict=True) if code == 200]
        refused = [eid for (eid, _), code in zip(burst, codes, strict=True) if code == 503]
        rows = stored(url, [eid for eid, _ in burst])
        assert set(acknowledged) <= set(rows), "a 200 was sent for an event that is not in the database"

        # While it is down, a new delivery is refused quickly and not stored.
        down_id, down = body_for(999)
        assert await deliver(down) == 503
        assert stored(url, [down_id]) == {}

        # Back up: DocuSign's retries of everything refused are stored, exactly once each.
        await proxy.start()
        for (eid, body), code in zip(burst, codes, strict=True):
            if code == 503:
                assert await deliver(body) == 200
        assert await deliver(down) == 200
        rows = stored(url, [eid for eid, _ in burst] + [down_id, first_id])
        assert set(rows) == {eid for eid, _ in burst} | {down_id, first_id}
        # One row per event. A refused event may count two deliveries: when the connection dies after the
        # INSERT was sent, the outcome is unknown, so we answered 503 and the retry found the row.
        assert all(n in (1, 2) for eid, n in rows.items() if eid in refused)
        assert all(n == 1 for eid, n in rows.items() if eid in acknowledged)
    await proxy.stop()


async def test_a_database_refusal_is_an_error_for_an_administrator_not_an_outage(
        settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str) -> None:
    """A missing grant is not "the database is down": it is answered 500 and logged as needing an
    administrator (a 503 would tell DocuSign, and the operator, that waiting helps). Nothing is stored, and
    once the grant is back the retried delivery is stored."""
    url = db_factories[main_backend].create()
    app_settings = settings.model_copy(update={"database_url": url, "docusign_connect_hmac_keys": [KEY]})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("REVOKE INSERT ON webhook_events FROM dsa_webhook")
    async with serve(create_app(app_settings, role_urls(url))) as base, httpx.AsyncClient(timeout=30) as client:
        envelope_id, body = body_for(7)
        refused = await client.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, KEY))
        assert refused.status_code == 500 and refused.json()["error"] == "storage_error", refused.text
        assert "retry-after" not in refused.headers
        assert stored(url, [envelope_id]) == {}
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("GRANT INSERT ON webhook_events TO dsa_webhook")
        again = await client.post(f"{base}/webhooks/docusign", content=body, headers=signed_headers(body, KEY))
        assert again.status_code == 200, again.text
        assert stored(url, [envelope_id]) == {envelope_id: 1}
