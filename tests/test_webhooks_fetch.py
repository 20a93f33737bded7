"""An event that does not say the envelope's status is completed from DocuSign, with no lock held meanwhile.

The worker claims events with row locks and takes an advisory lock per envelope; asking DocuSign (with the
client layer's retries) inside that transaction would hold them for as long as DocuSign takes. The real client
asks the emulator here, and checks from another connection, at the moment it asks, that the event's row is
free and that no advisory lock is held in the database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import orjson
import psycopg
import pytest
from docusign_esign import EnvelopeDefinition, TemplateRole

from db import profiles
from db.session import Database
from db.urls import driver_url
from docusign_agent.docusign_time import format_time
from docusign_agent.settings import Settings
from docusign_client.clients import DocuSignClients
from emulator.standalone import build_standalone_app
from runtime.webhooks.parse import classify
from runtime.webhooks.service import WebhookService, create_pool
from runtime.webhooks.worker import WebhookWorker
from tests.conftest import DatabaseFactory, role_urls
from tests.servers import ServerThread


@pytest.fixture(scope="module")
def emulator() -> Iterator[ServerThread]:
    with ServerThread(build_standalone_app()) as server:
        yield server


async def test_a_status_less_event_is_completed_from_docusign_outside_the_transaction(
        settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str,
        emulator: ServerThread) -> None:
    url = db_factories[main_backend].create()
    database = Database(role_urls(url), pool_size=2)
    app_settings = settings.model_copy(update={"database_url": url})
    clients = DocuSignClients(app_settings, database, emulator_url=f"{emulator.url}/_emulator")
    store = WebhookService(app_settings, database, worker=False)
    await store.start()
    pool = await create_pool(role_urls(url).webhook, 2)
    observer = await asyncpg.connect(driver_url(url, "libpq"))
    try:
        user = await profiles.ensure_user(database, f"fetch-{uuid.uuid4().hex[:6]}@example.com")
        client = await clients.for_user(user)
        nda = next(t for t in (await client.list_templates()).value.envelope_templates if t.name == "Mutual NDA")
        envelope_id = (await client.create_envelope(EnvelopeDefinition(
            template_id=nda.template_id, status="sent", template_roles=[
                TemplateRole(role_name="Party A", name="Ann", email="ann@example.com"),
                TemplateRole(role_name="Party B", name="Bob", email="bob@example.com")]),
            request_id=str(uuid.uuid4()))).value.envelope_id
        with psycopg.connect(url) as conn:
            ds_user = conn.execute("SELECT docusign_user_id FROM profiles WHERE id = %s", (user,)).fetchone()[0]
        body = orjson.dumps({"event": "envelope-corrected", "generatedDateTime": format_time(dt.datetime.now(dt.UTC)),
                             "data": {"accountId": client.account_id, "userId": ds_user, "envelopeId": envelope_id}})
        event_id, inserted = await store.store(classify(body), body.decode())
        assert inserted

        seen_while_fetching: list[dict[str, Any]] = []

        async def fetch(user_id: uuid.UUID, account_id: str, envelope: str) -> dict[str, Any]:
            row_free = await observer.fetchval(
                "SELECT id FROM webhook_events WHERE id = $1 FOR UPDATE NOWAIT", event_id)  # raises if locked
            advisory = await observer.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                "database = (SELECT oid FROM pg_database WHERE datname = current_database())")
            seen_while_fetching.append({"row_free": row_free == event_id, "advisory_locks": advisory})
            answer = await clients.for_user(user_id)
            envelope_json = (await answer.get_envelope(envelope, include="recipients,custom_fields")).value
            return answer.api_client.sanitize_for_serialization(envelope_json)  # type: ignore[no-any-return]

        worker = WebhookWorker(pool, fetch_envelope=fetch)
        assert await worker.drain() == 1
        assert seen_while_fetching == [{"row_free": True, "advisory_locks": 0}]
        with psycopg.connect(url) as conn:
            status, owner = conn.execute("SELECT status, user_id FROM webhook_events WHERE id = %s",
                                         (event_id,)).fetchone()
            mirrored = conn.execute("SELECT status FROM envelopes WHERE envelope_id = %s", (envelope_id,)).fetchone()
            recipients = conn.execute("SELECT count(*) FROM recipients r JOIN envelopes e ON e.id = r.envelope_pk "
                                      "WHERE e.envelope_id = %s", (envelope_id,)).fetchone()[0]
        assert (status, owner) == ("applied", user) and mirrored == ("sent",) and recipients == 2
    finally:
        await observer.close()
        await pool.close()
        await store.stop()
        await clients.aclose()
        await database.dispose()


async def test_docusign_failing_to_answer_retries_the_event_later(
        settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str) -> None:
    url = db_factories[main_backend].create()
    database = Database(role_urls(url), pool_size=2)
    app_settings = settings.model_copy(update={"database_url": url})
    store = WebhookService(app_settings, database, worker=False)
    await store.start()
    pool = await create_pool(role_urls(url).webhook, 2)
    try:
        user = await profiles.ensure_user(database, f"fetch-{uuid.uuid4().hex[:6]}@example.com")
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE profiles SET docusign_user_id = 'ds-1', docusign_account_id = 'acct' WHERE id = %s",
                         (user,))
        body = orjson.dumps({"event": "envelope-corrected", "generatedDateTime": format_time(dt.datetime.now(dt.UTC)),
                             "data": {"accountId": "acct", "userId": "ds-1", "envelopeId": str(uuid.uuid4())}})
        event_id, _ = await store.store(classify(body), body.decode())

        async def unreachable(user_id: uuid.UUID, account_id: str, envelope: str) -> dict[str, Any]:
            raise ConnectionError("DocuSign did not answer")

        assert await WebhookWorker(pool, fetch_envelope=unreachable, max_attempts=3).drain() == 1
        with psycopg.connect(url) as conn:
            status, attempts, error, later = conn.execute(
                "SELECT status, attempts, last_error, next_attempt_at > now() FROM webhook_events WHERE id = %s",
                (event_id,)).fetchone()
        assert (status, attempts, later) == ("pending", 1, True) and "DocuSign did not answer" in error
    finally:
        await pool.close()
        await store.stop()
        await database.dispose()
