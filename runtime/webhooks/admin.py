"""Administration of stored Connect events (the `docusign-agent webhooks` commands).

Runs as the webhook role (`Database.webhook_session`), which can read and update `webhook_events` and nothing
private. Replaying puts an event back in the queue and wakes the workers; discarding keeps the row (its raw body
and dedupe key) but takes it off the list of events that need attention.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.envelopes import WEBHOOK_EVENT_STATUSES
from runtime.webhooks.worker import WAKE_CHANNEL

ALL = WEBHOOK_EVENT_STATUSES
ATTENTION = ("failed", "parked", "unmatched")  # what `webhooks list` shows by default
REPLAYABLE = ("failed", "parked", "unmatched", "discarded")
DISCARDABLE = ("pending", "failed", "parked", "unmatched")


async def list_events(session: AsyncSession, statuses: tuple[str, ...] = ATTENTION, limit: int = 50
                      ) -> list[dict[str, Any]]:
    rows = await session.execute(text(
        "SELECT id, status, event, envelope_id, account_id, docusign_user_id, attempts, deliveries, received_at, "
        "processed_at, last_error FROM webhook_events WHERE status = ANY(:statuses) ORDER BY id DESC LIMIT :limit"
    ), {"statuses": list(statuses), "limit": limit})
    return [dict(r._mapping) for r in rows]


async def counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(text("SELECT status, count(*) FROM webhook_events GROUP BY status"))
    return {status: n for status, n in rows}


async def replay(session: AsyncSession, event_id: int) -> str | None:
    """Queue the event again from scratch. Returns its previous status, or None if there is no such event."""
    previous = (await session.execute(text("SELECT status FROM webhook_events WHERE id = :id FOR UPDATE"),
                                      {"id": event_id})).scalar_one_or_none()
    if previous is None:
        return None
    if previous not in REPLAYABLE:
        return previous
    await session.execute(text(
        "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, "
        "processed_at = NULL WHERE id = :id"), {"id": event_id})
    await session.execute(text(f"NOTIFY {WAKE_CHANNEL}"))
    return previous


async def discard(session: AsyncSession, event_id: int) -> str | None:
    """Mark the event discarded. Returns its previous status, or None if there is no such event."""
    previous = (await session.execute(text("SELECT status FROM webhook_events WHERE id = :id FOR UPDATE"),
                                      {"id": event_id})).scalar_one_or_none()
    if previous is None or previous not in DISCARDABLE:
        return previous
    await session.execute(text(
        "UPDATE webhook_events SET status = 'discarded', processed_at = now(), "
        "last_error = concat_ws(' ', last_error, '[discarded by an administrator]') WHERE id = :id"),
        {"id": event_id})
    return previous
