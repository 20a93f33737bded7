"""The webhook side of one server process: the receiver's connection pool, the worker, and the wake-ups.

The request path does one INSERT on a pooled `dsa_webhook` connection (asyncpg, prepared statements) and sets
an in-process event; a coalescing notifier turns bursts of stored events into one `NOTIFY`, which wakes the
workers of the other processes sharing the database. Nothing polls, except the worker's slow safety sweep.

The app's DocuSign clients, when given, are how the worker asks DocuSign about an event that does not say the
envelope's status, and how it drops the envelope's cached reads after a change.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import asyncpg

from db.connections import is_unavailable
from db.mirror import REMATCH_CHANNEL
from db.session import Database
from db.urls import driver_url
from docusign_agent.backoff import Backoff
from docusign_agent.secrets import connect_hmac_keys
from docusign_agent.settings import Settings
from docusign_client.clients import DocuSignClients
from docusign_client.errors import NotConnected
from runtime.bus import EventBus
from runtime.webhooks.parse import Classified, EventError, signing_keys
from runtime.webhooks.reconcile import MirrorSync
from runtime.webhooks.worker import WAKE_CHANNEL, WebhookWorker

log = logging.getLogger(__name__)

STORE = """
INSERT INTO webhook_events AS w (dedupe_key, event, account_id, docusign_user_id, envelope_id, recipient_id,
                                 generated_at, raw_body, payload)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text, $8::text::jsonb)
ON CONFLICT (dedupe_key) DO UPDATE SET deliveries = w.deliveries + 1
RETURNING id, (xmax = 0) AS inserted
"""
STORE_FAILED = """
INSERT INTO webhook_events AS w (dedupe_key, event, account_id, docusign_user_id, envelope_id, recipient_id,
                                 generated_at, raw_body, status, last_error, processed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'failed', $9, now())
ON CONFLICT (dedupe_key) DO UPDATE SET deliveries = w.deliveries + 1
RETURNING id, (xmax = 0) AS inserted
"""


class StoreUnavailable(Exception):
    """The database did not answer; nothing was stored or acknowledged, and a retry may succeed."""


class StoreRefused(Exception):
    """The database answered with an error no retry will change (missing grants, a missing table): the
    deployment needs an administrator. Nothing was stored or acknowledged."""


async def create_pool(url: str, size: int) -> asyncpg.Pool:
    """A lazily connecting pool (min 0): a server whose database is down still starts and answers 503."""
    return await asyncpg.create_pool(
        driver_url(url, "libpq"), min_size=0, max_size=size, timeout=5, command_timeout=30,
        max_inactive_connection_lifetime=300, server_settings={"application_name": "docusign-agent-webhooks"},
    )


class WebhookService:
    """Blocking to construct (it reads the HMAC keys, perhaps from DATA_DIR); `async with` starts and stops it."""

    def __init__(self, settings: Settings, database: Database, *, bus: EventBus | None = None,
                 docusign: DocuSignClients | None = None, worker: bool = True, pool_size: int | None = None) -> None:
        self.settings = settings
        self.database = database
        self.bus = bus
        self.docusign = docusign
        self.keys = signing_keys(connect_hmac_keys(settings))
        self.max_body = settings.webhook_max_body_bytes
        self.pool_size = pool_size or max(4, settings.db_pool_size)
        self.worker_enabled = worker
        self.pool: asyncpg.Pool | None = None
        self.worker: WebhookWorker | None = None
        self.sync: MirrorSync | None = None  # reconciliation, where there are DocuSign clients to ask with
        self._notify = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: asyncpg.Connection | None = None
        self._closing = False

    async def __aenter__(self) -> WebhookService:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self.pool = await create_pool(self.database.urls.webhook, self.pool_size)
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._notifier(), name="webhook-notifier"))
        if self.worker_enabled:
            docusign = self.docusign
            self.worker = WebhookWorker(self.pool, bus=self.bus, max_attempts=self.settings.webhook_max_attempts,
                                        fetch_envelope=self.fetch_envelope if docusign is not None else None,
                                        invalidate=docusign.invalidate if docusign is not None else None)
            self.worker.start()
            self._tasks.append(loop.create_task(self._listen(), name="webhook-listener"))
        if self.docusign is not None:
            self.sync = MirrorSync(self.pool, self.docusign, self.store,
                                   gap_seconds=self.settings.mirror_sync_gap_seconds)
            if self.worker_enabled and self.settings.mirror_sync_seconds > 0:
                self._tasks.append(loop.create_task(self._reconcile(), name="mirror-sync"))

    async def stop(self) -> None:
        self._closing = True
        if self.worker is not None:
            await self.worker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        if self.pool is not None:
            await self.pool.close()

    # --- the request path ---------------------------------------------------------------------------------
    async def store(self, found: Classified, text: str, error: str | None = None) -> tuple[int, bool]:
        """Insert (or count a redelivery of) one event; returns (row id, whether it is new). Committed on return."""
        assert self.pool is not None
        args = (found.dedupe_key, found.event, found.account_id, found.docusign_user_id, found.envelope_id,
                found.recipient_id, found.generated_at, text)
        failure = error or (None if found.ok else found.error)
        try:
            async with self.pool.acquire() as conn:
                if failure is None:
                    try:
                        row = await conn.fetchrow(STORE, *args)
                    except (asyncpg.DataError, asyncpg.UntranslatableCharacterError) as exc:
                        # Valid for our parser but not for jsonb (e.g. \u0000): keep it, as failed.
                        failure = f"payload rejected by the database: {exc}"
                        row = await conn.fetchrow(STORE_FAILED, *args, failure)
                else:
                    row = await conn.fetchrow(STORE_FAILED, *args, failure)
        except Exception as exc:
            if is_unavailable(exc):  # refused with 503 and Retry-After: DocuSign's retry will be stored
                raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
            if isinstance(exc, asyncpg.PostgresError):
                raise StoreRefused(f"{type(exc).__name__} (SQLSTATE {exc.sqlstate}): {exc}") from exc
            raise
        inserted = bool(row["inserted"])
        if inserted and failure is None:
            if self.worker is not None:
                self.worker.wake()
            self._notify.set()
        return int(row["id"]), inserted

    async def fetch_envelope(self, user_id: uuid.UUID, account_id: str, envelope_id: str) -> dict[str, Any]:
        """DocuSign's envelope, recipients and custom fields included, through its owner's client (with the
        client layer's retries), as the REST JSON a Connect body would carry."""
        assert self.docusign is not None
        try:
            client = await self.docusign.for_user(user_id)
        except NotConnected as exc:
            raise EventError(f"the event does not say the envelope's status and its owner has no DocuSign "
                             f"connection to fetch it with: {exc}") from None
        envelope = await client.get_envelope(envelope_id, include="recipients,custom_fields")
        return client.api_client.sanitize_for_serialization(envelope.value)  # type: ignore[no-any-return]

    async def wake_workers(self) -> None:
        """Wake every process's worker now (the CLI, which exits before the coalescing notifier would run)."""
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            await conn.execute(f"NOTIFY {WAKE_CHANNEL}")

    async def _reconcile(self) -> None:
        """Every MIRROR_SYNC_SECONDS (first after one interval, not at start-up): every process runs this, and
        `mirror_syncs` lets only one of them poll each DocuSign user within DocuSign's limit."""
        assert self.sync is not None
        while True:
            await asyncio.sleep(self.settings.mirror_sync_seconds)
            try:
                results = await self.sync.sync_all()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database may be down: the next round tries again
                log.warning("mirror sync failed: %s: %s", type(exc).__name__, exc)
                continue
            new = sum(r.new for r in results)
            if new:
                log.info("mirror sync: %d envelope state(s) not delivered by Connect were queued", new)

    # --- wake-ups across processes ------------------------------------------------------------------------
    async def _notifier(self) -> None:
        """One NOTIFY per burst (at most every 20 ms), off the request path."""
        while True:
            await self._notify.wait()
            self._notify.clear()
            try:
                assert self.pool is not None
                async with self.pool.acquire(timeout=5) as conn:
                    await conn.execute(f"NOTIFY {WAKE_CHANNEL}")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - other workers still find the events on their sweep
                log.debug("webhook notify failed: %s", exc)
            await asyncio.sleep(0.02)

    async def _listen(self) -> None:
        """LISTEN for other processes' stores and for envelopes the agent recorded; reconnects when dropped."""
        reconnects = Backoff(base=0.5, cap=30.0, jitter=0.25)
        failures = 0
        while not self._closing:
            try:
                conn = await asyncpg.connect(driver_url(self.database.urls.webhook, "libpq"), timeout=5,
                                             server_settings={"application_name": "docusign-agent-webhooks-listen"})
                self._listener = conn
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(WAKE_CHANNEL, self._on_notify)
                await conn.add_listener(REMATCH_CHANNEL, self._on_notify)
                failures = 0
                if self.worker is not None:
                    self.worker.wake()  # whatever was stored while we were not listening
                while not lost.is_set() and not conn.is_closed():
                    try:
                        await asyncio.wait_for(lost.wait(), 30)
                    except TimeoutError:
                        await conn.execute("SELECT 1")  # notices a dead connection
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.debug("webhook listener: %s", exc)
            finally:
                if self._listener is not None and not self._listener.is_closed():
                    try:
                        await self._listener.close(timeout=2)
                    except Exception:  # noqa: BLE001
                        self._listener.terminate()
                self._listener = None
            await asyncio.sleep(reconnects.delay(failures))
            failures += 1

    def _on_notify(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        if self.worker is None:
            return
        if channel == REMATCH_CHANNEL:
            self.worker.rematch(payload)
        else:
            self.worker.wake()
