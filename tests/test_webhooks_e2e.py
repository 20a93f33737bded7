"""End to end through the real client layer and the emulator: Connect is configured with
`configure_emulator_connect`, an envelope is sent the way the send tools send it (`DocuSignClient.create_envelope`
with a request id, then `mirror.record_sent_envelope`), the emulator's signing endpoint completes it, Connect
delivers, the mirror shows `completed`, and an open `/v1/events` client receives the update."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import issue_token
from docusign_client.connect import configure_emulator_connect, webhook_url
from db import mirror
from db.session import Database
from docusign_agent.settings import Settings
from emulator.standalone import build_standalone_app
from tests.conftest import DatabaseFactory, role_urls
from tests.webhook_helpers import listen_for_envelopes, make_profile, send_nda, serve, sign_all, wait_for

KEY = "k-" + secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
async def emulator() -> AsyncIterator[str]:
    async with serve(build_standalone_app()) as base:
        yield f"{base}/_emulator"


@pytest.mark.slow
async def test_send_sign_connect_mirror_and_events(emulator: str, settings: Settings,
                                                   db_factories: dict[str, DatabaseFactory],
                                                   main_backend: str) -> None:
    from docusign_client.clients import DocuSignClients

    url = db_factories[main_backend].create()
    app_settings = settings.model_copy(update={"database_url": url, "docusign_connect_hmac_keys": [KEY]})
    user = make_profile(url, email=f"e2e-{uuid.uuid4().hex[:6]}@example.com")
    app = create_app(app_settings, role_urls(url))
    async with serve(app) as base, httpx.AsyncClient(timeout=60) as http:
        database: Database = app.state.database
        clients = DocuSignClients(app_settings, database, emulator_url=emulator)
        try:
            client = await clients.for_user(user)
            configured = await configure_emulator_connect(client, emulator_url=emulator, url=webhook_url(base),
                                                          hmac_keys=[KEY], http=http)
            assert configured["action"] == "created"
            again = await configure_emulator_connect(client, emulator_url=emulator, url=webhook_url(base),
                                                     hmac_keys=[KEY], http=http)
            assert again["action"] == "updated" and again["connect_id"] == configured["connect_id"]

            # An SSE client is listening before anything happens.
            frames: list[dict[str, Any]] = []
            ready = asyncio.Event()
            token = issue_token(app_settings, user, "e2e@example.com")

            listener = asyncio.create_task(listen_for_envelopes(http, base, token, frames, ready))
            await asyncio.wait_for(ready.wait(), 10)  # `ready` is sent once the subscription is open

            envelope_id, request_id = await send_nda(client, database, user, "NDA with Northwind")
            await sign_all(http, emulator, envelope_id)

            async def completed() -> bool:
                async with database.user_session(user) as session:
                    found = await mirror.get_envelope(session, envelope_id)
                return found is not None and found.status == "completed"

            await wait_for(completed, 30)
            await asyncio.wait_for(listener, 30)
            assert frames[-1]["envelope_id"] == envelope_id and frames[-1]["status"] == "completed"
            async with database.user_session(user) as session:
                found = await mirror.get_envelope(session, envelope_id)
            assert found is not None and found.request_id == request_id
            assert {r.status for r in found.recipients} == {"completed"} and len(found.recipients) == 2
            listed = (await http.get(f"{base}/v1/envelopes/{envelope_id}",
                                     headers={"Authorization": f"Bearer {token}"})).json()
            assert listed["status"] == "completed"
        finally:
            await clients.aclose()
