"""Applying one Connect event to the mirror, inside the worker's transaction (as the webhook role).

Pure database work on one connection: find the owner, decide with `docusign_agent.envelope_rules` whether the
event's state replaces the stored one, write the envelope, its recipients and the bulk counters, and the audit
row. It never calls DocuSign: an event that does not say the envelope's status raises `NeedsFetch`, and the
worker asks DocuSign after its transaction, holding no locks (see `worker.py`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from docusign_agent.envelope_rules import envelope_may_change, envelope_order, recipient_may_change
from runtime.webhooks.parse import EventError, ParsedEvent, RecipientState
from runtime.webhooks.sql import (
    AUDIT,
    BULK_COUNTERS,
    BULK_ROWS,
    ENVELOPE_FOR_UPDATE,
    INSERT_ENVELOPE,
    RECIPIENTS_OF,
    SAME_DATA_APPLIED,
    UPDATE_ENVELOPE,
    UPSERT_RECIPIENT,
    USER_BY_BULK,
    USER_BY_DOCUSIGN,
    USER_BY_REQUEST,
)

# The envelope statuses a bulk recipient row follows (its own statuses add `queued` and `failed`).
BULK_STATUSES = frozenset({"sent", "delivered", "completed", "declined", "voided"})


class Unmatched(Exception):
    """No envelope or user of ours: kept as `unmatched` and re-queued when the envelope becomes known."""


class NeedsFetch(Exception):
    """The event names an envelope but not its state; DocuSign must be asked, outside the transaction."""

    def __init__(self, user_id: uuid.UUID) -> None:
        super().__init__("the event does not say the envelope's status")
        self.user_id = user_id


@dataclass
class Outcome:
    """What one event did, published on the bus after the batch commits."""

    event_id: int
    status: str
    user_id: uuid.UUID | None = None
    envelope_id: str | None = None
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (bus event name, data)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def owner(conn: asyncpg.Connection, ev: ParsedEvent, existing: asyncpg.Record | None) -> uuid.UUID:
    """Whose envelope this is: the mirror's row, a bulk row, the `dsa_request_id` field, or the DocuSign user."""
    if existing is not None:
        return existing["user_id"]  # type: ignore[no-any-return]
    user = await conn.fetchval(USER_BY_BULK, ev.envelope_id)
    if user is None and ev.request_id:
        user = await conn.fetchval(USER_BY_REQUEST, ev.request_id)
    if user is None and ev.docusign_user_id:
        found = await conn.fetch(USER_BY_DOCUSIGN, ev.docusign_user_id, ev.account_id or "")
        if len(found) == 1:
            user = found[0]["id"]
        elif len(found) > 1:
            raise Unmatched(f"DocuSign user {ev.docusign_user_id} maps to several profiles")
    if user is None:
        raise Unmatched(f"envelope {ev.envelope_id} and DocuSign user {ev.docusign_user_id or '(none)'} "
                        "are not known to this server")
    return user  # type: ignore[no-any-return]


async def apply_event(conn: asyncpg.Connection, event_id: int, ev: ParsedEvent, *, can_fetch: bool) -> Outcome:
    """Apply `ev` (stored as `event_id`). `can_fetch`: a status-less event raises NeedsFetch instead of failing."""
    existing = await conn.fetchrow(ENVELOPE_FOR_UPDATE, ev.envelope_id)
    user_id = await owner(conn, ev, existing)
    if ev.status is None and can_fetch:
        raise NeedsFetch(user_id)
    if ev.status is None and not ev.recipients:
        raise EventError(f"event {ev.event or '(unnamed)'} carries no envelope status and no recipient state, "
                         "and no DocuSign client is configured to fetch the envelope (enable includeData "
                         "recipients in the Connect configuration)")
    new_key = envelope_order(ev.status, ev.status_changed_at, ev.generated_at)
    envelope_pk: uuid.UUID
    previous: str | None = None
    newer = False
    if existing is None:
        if ev.status is None:
            raise EventError(f"envelope {ev.envelope_id} is not in the mirror yet and event {ev.event} "
                             "does not say its status")
        envelope_pk = await conn.fetchval(
            INSERT_ENVELOPE, user_id, ev.envelope_id, ev.account_id or "", ev.status, ev.email_subject,
            ev.sender_email, ev.request_id, ev.sent_at, ev.delivered_at, ev.completed_at, ev.declined_at,
            ev.voided_at, ev.voided_reason, ev.status_changed_at, ev.generated_at)
        if envelope_pk is None:  # recorded by the agent meanwhile: go the update way
            existing = await conn.fetchrow(ENVELOPE_FOR_UPDATE, ev.envelope_id)
            assert existing is not None
        else:
            newer = True
    if existing is not None:
        envelope_pk = existing["id"]
        previous = existing["status"]
        current_key = envelope_order(existing["status"], existing["status_changed_at"], existing["last_event_at"])
        if ev.status is not None and envelope_may_change(previous, current_key, ev.status, new_key):
            if ev.status == previous and new_key[0] == current_key[0] and await conn.fetchval(
                    SAME_DATA_APPLIED, ev.envelope_id, event_id, ev.event):
                # The same data as an event already applied (a redelivery with a new generatedDateTime).
                return Outcome(event_id, "duplicate", user_id, ev.envelope_id)
            newer = True
            await conn.execute(
                UPDATE_ENVELOPE, envelope_pk, ev.status, ev.account_id, ev.email_subject, ev.sender_email,
                ev.request_id, ev.sent_at, ev.delivered_at, ev.completed_at, ev.declined_at, ev.voided_at,
                ev.voided_reason, ev.status_changed_at or existing["status_changed_at"], ev.generated_at)
        elif ev.status is not None and await conn.fetchval(SAME_DATA_APPLIED, ev.envelope_id, event_id, ev.event):
            return Outcome(event_id, "duplicate", user_id, ev.envelope_id)

    changed_recipients = await _apply_recipients(conn, envelope_pk, user_id, ev, newer)
    status_now = ev.status if newer else previous
    status_changed = newer and ev.status != previous
    outcome = Outcome(event_id, "applied", user_id, ev.envelope_id)
    if not status_changed and not changed_recipients:
        return outcome  # older than what the mirror holds, or no visible change
    bulk = await _apply_bulk(conn, ev.envelope_id, status_now) if status_changed and status_now else []
    change = {
        "envelope_id": ev.envelope_id, "event": ev.event, "webhook_event_id": event_id,
        "previous_status": previous, "status": status_now,
        "status_changed_at": _iso(ev.status_changed_at if newer
                                  else existing["status_changed_at"] if existing is not None else None),
        "generated_at": _iso(ev.generated_at),
        "recipients": [{"recipient_id": r.recipient_id, "status": r.status, "previous_status": before,
                        "name": r.name, "email": r.email, "routing_order": r.routing_order}
                       for r, before in changed_recipients],
    }
    await conn.execute(AUDIT, user_id, f"webhook:{ev.event or 'event'}"[:100], ev.envelope_id,
                       orjson.dumps({"webhook_event_id": event_id, "event": ev.event,
                                     "generated_at": _iso(ev.generated_at)}).decode(),
                       orjson.dumps({"previous_status": previous, "status": status_now,
                                     "recipients": change["recipients"]}).decode())
    outcome.messages.append(("envelope", change))
    for op in bulk:
        outcome.messages.append(("bulk", op))
    return outcome


async def _apply_recipients(conn: asyncpg.Connection, envelope_pk: uuid.UUID, user_id: uuid.UUID,
                            ev: ParsedEvent, envelope_newer: bool) -> list[tuple[RecipientState, str | None]]:
    if not ev.recipients:
        return []
    current = {r["recipient_id"]: r for r in await conn.fetch(RECIPIENTS_OF, envelope_pk)}
    rows, changed = [], []
    for r in ev.recipients:
        stored = current.get(r.recipient_id)
        before = stored["status"] if stored else None
        may = recipient_may_change(before, stored["status_changed_at"] if stored else None, r.status, r.changed_at)
        if stored is not None and not may and not envelope_newer:
            continue
        rows.append((envelope_pk, user_id, r.recipient_id, r.recipient_type, r.name, r.email, r.routing_order,
                     r.status, r.client_user_id, r.sent_at, r.delivered_at, r.signed_at, r.declined_at,
                     r.declined_reason, r.changed_at, may, envelope_newer))
        if may and r.status != before:
            changed.append((r, before))
    if rows:
        await conn.executemany(UPSERT_RECIPIENT, rows)
    return changed


async def _apply_bulk(conn: asyncpg.Connection, envelope_id: str, status: str) -> list[dict[str, Any]]:
    if status not in BULK_STATUSES:
        return []
    operations = {r["operation_id"] for r in await conn.fetch(BULK_ROWS, envelope_id, status)}
    out = []
    for operation_id in sorted(operations):
        op = await conn.fetchrow(BULK_COUNTERS, operation_id)
        if op is not None:
            out.append({k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in dict(op).items()})
    return out
