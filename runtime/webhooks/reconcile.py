"""Reconciliation: ask DocuSign what changed since the last sync, so that a Connect delivery that never arrived
(DocuSign gave up retrying, or the listener was down longer than its schedule) heals by itself.

For each DocuSign user the server knows, `listStatusChanges` with `from_date` returns every envelope changed
since then, recipients and custom fields included. Each is stored as a JSON SIM event (`envelope-reconciled`,
timed by the envelope's own last change) in `webhook_events`, and the Connect worker applies it like any
delivery: the one "newer event wins" rule (`docusign_agent.envelope_rules`), the audit row, the bus message the
chat page's live stream shows, the read cache dropped. The same state read twice is one event (dedupe key).

DocuSign's polling rules, kept here: one poll per user per 15 minutes at most (`Settings.mirror_sync_gap_seconds`,
claimed in `mirror_syncs` under a row lock so several processes never poll twice), and each poll asks from 3
minutes before the previous successful one, so nothing changing during a poll is missed.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from docusign_client.clients import DocuSignClients
from runtime.webhooks.parse import Classified, classify, reconciled_body

log = logging.getLogger(__name__)

POLL_OVERLAP = dt.timedelta(minutes=3)  # DocuSign: ask from a little before the previous poll
FIRST_WINDOW = dt.timedelta(days=30)  # a user's first sync looks this far back
PAGE_SIZE = 100
NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

Store = Callable[[Classified, str], Awaitable[tuple[int, bool]]]

KNOWN_USERS = """
SELECT id, docusign_account_id, docusign_user_id FROM profiles
WHERE docusign_user_id IS NOT NULL AND docusign_account_id IS NOT NULL AND ($1::text IS NULL OR email = lower($1))
ORDER BY id
"""
ENSURE_ROW = """
INSERT INTO mirror_syncs (account_id, docusign_user_id, polled_at, from_date) VALUES ($1, $2, $3, $4)
ON CONFLICT (account_id, docusign_user_id) DO NOTHING
"""
LOCK_ROW = ("SELECT polled_at, from_date, now() AS now FROM mirror_syncs "
            "WHERE account_id = $1 AND docusign_user_id = $2 FOR UPDATE")
MARK_POLLED = "UPDATE mirror_syncs SET polled_at = $3 WHERE account_id = $1 AND docusign_user_id = $2"
MARK_SYNCED = ("UPDATE mirror_syncs SET from_date = $3, envelopes = $4 "
               "WHERE account_id = $1 AND docusign_user_id = $2")


@dataclass(frozen=True)
class SyncResult:
    user_id: uuid.UUID
    account_id: str
    polled: bool  # False: DocuSign's polling limit says not yet (see `next_poll_at`)
    from_date: dt.datetime | None = None
    envelopes: int = 0  # envelope states DocuSign returned
    new: int = 0  # of which were not stored before (the worker applies them)
    next_poll_at: dt.datetime | None = None
    error: str | None = None


class MirrorSync:
    """Polls through each user's DocuSign client and stores what it finds with `store` (the receiver's)."""

    def __init__(self, pool: asyncpg.Pool, docusign: DocuSignClients, store: Store, *, gap_seconds: int) -> None:
        self.pool = pool
        self.docusign = docusign
        self.store = store
        self.gap = dt.timedelta(seconds=gap_seconds)

    async def sync_all(self, email: str | None = None) -> list[SyncResult]:
        """Every user who has used DocuSign here (or the one with `email`), one after the other."""
        async with self.pool.acquire() as conn:
            users = await conn.fetch(KNOWN_USERS, email)
        results = []
        for row in users:
            results.append(await self.sync_user(row["id"], row["docusign_account_id"], row["docusign_user_id"]))
        return results

    async def _claim(self, account_id: str, docusign_user_id: str) -> tuple[dt.datetime, dt.datetime] | dt.datetime:
        """(poll start, from_date) when a poll is allowed now (recorded as made), else when it will be."""
        async with self.pool.acquire() as conn, conn.transaction():
            now = await conn.fetchval("SELECT now()")
            await conn.execute(ENSURE_ROW, account_id, docusign_user_id, NEVER, now - FIRST_WINDOW)
            row = await conn.fetchrow(LOCK_ROW, account_id, docusign_user_id)
            if row["polled_at"] + self.gap > row["now"]:
                return row["polled_at"] + self.gap  # type: ignore[no-any-return]
            await conn.execute(MARK_POLLED, account_id, docusign_user_id, row["now"])
            return row["now"], row["from_date"]

    async def sync_user(self, user_id: uuid.UUID, account_id: str, docusign_user_id: str) -> SyncResult:
        claimed = await self._claim(account_id, docusign_user_id)
        if isinstance(claimed, dt.datetime):
            return SyncResult(user_id, account_id, polled=False, next_poll_at=claimed)
        started, from_date = claimed
        try:
            envelopes = await self._changes(user_id, from_date)
        except Exception as exc:  # noqa: BLE001 - DocuSign down or refusing: the next poll covers the same span
            log.warning("mirror sync of user %s failed: %s: %s", user_id, type(exc).__name__, exc)
            return SyncResult(user_id, account_id, polled=True, from_date=from_date,
                              error=f"{type(exc).__name__}: {exc}")
        new = 0
        for envelope in envelopes:
            body = reconciled_body(envelope, account_id, docusign_user_id)
            _, inserted = await self.store(classify(body), body.decode())
            new += int(inserted)
        async with self.pool.acquire() as conn:
            await conn.execute(MARK_SYNCED, account_id, docusign_user_id, started - POLL_OVERLAP, len(envelopes))
        if new:
            log.info("mirror sync of user %s: %d envelope state(s) since %s, %d new", user_id, len(envelopes),
                     from_date.isoformat(), new)
        return SyncResult(user_id, account_id, polled=True, from_date=from_date, envelopes=len(envelopes), new=new)

    async def _changes(self, user_id: uuid.UUID, from_date: dt.datetime) -> list[dict[str, Any]]:
        """Every envelope DocuSign says changed since `from_date`, page by page, as REST JSON."""
        client = await self.docusign.for_user(user_id)
        found: list[dict[str, Any]] = []
        position = 0
        while True:
            page = (await client.list_envelopes(from_date=from_date, include="recipients,custom_fields",
                                                count=PAGE_SIZE, start_position=position)).value
            envelopes = page.envelopes or []
            found += [client.api_client.sanitize_for_serialization(e) for e in envelopes]
            total = int(page.total_set_size or 0)
            position += len(envelopes)
            if not envelopes or position >= total:
                return found
